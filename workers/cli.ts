import { runWorkers } from './run.js';

// npm run worker -- <queue> [<queue>...] | all
runWorkers(process.argv.slice(2));
