import { runWorkers } from './run.js';

runWorkers(['appointment']);
