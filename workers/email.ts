import { runWorkers } from './run.js';

runWorkers(['email']);
