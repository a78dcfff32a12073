import { runWorkers } from './run.js';

runWorkers(['webhook']);
