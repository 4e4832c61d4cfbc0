import { main } from "./start/cli.js";

// The process boundary: the only place that reads argv and the environment, and names the .env file (in the
// working directory, read by the config module when present).
const code = await main(process.argv.slice(2), process.env, { envFile: ".env" });
if (code >= 0) process.exit(code);
