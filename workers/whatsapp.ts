import { runWorkers } from './run.js';

runWorkers(['whatsapp']);
