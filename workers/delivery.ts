import { runWorkers } from './run.js';

runWorkers(['delivery']);
