export { loadConfig, parseEnvFile, readEnvFile, withEnvFile } from "./env-file.js";
export { parseConfig } from "./parse.js";
export {
  type Config,
  ConfigError,
  type DatabaseConfig,
  type LogFormatSetting,
  type LogLevel,
  MIN_SECRET_KEY_LENGTH,
  type Mode,
} from "./types.js";
