import { main } from "./start/cli.js";

// The process boundary: the only place that reads argv and the environment.
const code = await main(process.argv.slice(2), process.env);
if (code >= 0) process.exit(code);
