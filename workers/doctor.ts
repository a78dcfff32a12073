import { loadDotEnv } from '../src/config.js';
import { doctor, formatReport } from '../src/doctor/run.js';

// npm run doctor: validates the configuration and checks every configured integration.
loadDotEnv();
const report = await doctor();
console.log(formatReport(report));
process.exit(report.exitCode);
