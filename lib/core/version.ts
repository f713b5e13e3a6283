/** This package's version, sent in the client's User-Agent. `npm version` rewrites it (scripts/write-version.mjs); a unit test keeps it equal to package.json. */
export const LIBRARY_VERSION = '0.1.0';
