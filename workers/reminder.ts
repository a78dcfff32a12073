import { runWorkers } from './run.js';

runWorkers(['reminder']);
