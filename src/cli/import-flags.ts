/**
 * V8 flags for a process that runs an import. Streaming a file through the batch pipeline makes
 * a lot of short-lived garbage; semi-spaces of 2 MB instead of V8's 16 MB keep the young
 * generation small. Importing 200,000 rows on the embedded database peaked at 432 to 447 MB
 * with them and 482 to 500 MB without, at the same speed (the target for a million rows is
 * 500 MB). `bin/tandem.mjs` starts `tandem import` with them; the import benchmark does too.
 */
export const IMPORT_NODE_FLAGS = ['--max-semi-space-size=2'];
