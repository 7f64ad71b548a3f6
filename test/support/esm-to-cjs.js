// Jest on Node 20 cannot require() an ES module; the few ESM-only dependencies are compiled to CommonJS
// for the tests (Node itself loads them fine: require(esm) is on by default since Node 20.19).
const ts = require('typescript');

module.exports = {
  process(source, fileName) {
    const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
    return { code: ts.transpileModule(source, { compilerOptions: options, fileName }).outputText };
  },
};
