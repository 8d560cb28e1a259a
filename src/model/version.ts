/** The program's version, as `teardown --version` and the report's `tool.version` show it. */
export const VERSION = '0.1.0';
