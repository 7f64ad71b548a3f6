// `npm run openapi`: writes openapi.json at the repository root (a test fails when it is out of date).
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateOpenApiDocument } from '../src/openapi-document';

generateOpenApiDocument()
  .then((document) => {
    const file = resolve(__dirname, '..', 'openapi.json');
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
    console.log(`wrote ${file}`);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
