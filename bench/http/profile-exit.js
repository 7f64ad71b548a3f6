'use strict';
// Preloaded (node -r) into servers run under --cpu-prof by bench/http/run.js --profile.
// V8 writes the .cpuprofile only on a normal exit, and NestJS's shutdown hooks re-raise the signal
// after closing, which would kill the process before the profile is written: exit first.
process.prependListener('SIGTERM', () => process.exit(0));
