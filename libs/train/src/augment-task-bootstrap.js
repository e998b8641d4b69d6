// Piscina worker entry: registers the TypeScript loader, then exports the task.
require('tsx/cjs');
module.exports = require('./augment-task.ts');
