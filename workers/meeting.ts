import { runWorkers } from './run.js';

runWorkers(['meeting']);
