import { runWorkers } from './run.js';

runWorkers(['all']);
