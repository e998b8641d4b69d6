export { FlagError } from './errors';
export { EXIT, EXIT_MEANING, exitCodeOf, formatExitCodes, STORE_EXITS, TRAIN_EXITS, type ExitCode, type ExitCoded, type ExitName } from './exit-codes';
export { reportFailure } from './report-failure';
export * from './types';
export { DEFAULTS } from './defaults';
export { FLAGS, FLAG_NAMES, findFlag } from './flags';
export type { FlagSpec, FlagKind, Group } from './flag-spec';
export { GROUPS } from './flag-spec';
export { parseFlags, parseFlagsDetailed, wantsHelp, type ParseOptions, type ParseResult } from './parse';
export { defaultPrecision } from './validate';
export { toArgv, type ToArgvOptions } from './argv';
export { formatHelp, formatTrainHelp } from './help';
export { recipes, type Recipe, type RecipeName } from './recipes';
export {
  dataSource,
  storeLocation,
  parseDataSource,
  parseStoreLocation,
  type DataSource,
  type StoreLocation,
} from './locations';
export { viewRecipe, tokenGrids, type ViewRecipe, type ViewFlags, type FlagNamer } from './view-recipe';
export { ConfigError, serviceSettings, type ServiceOption, type ServiceSettings } from './service-options';
