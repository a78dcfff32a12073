import { runWorkers } from './run.js';

runWorkers(['sms']);
