// Entry point of a --jobs worker thread for read, timeline and audit (see jobs.ts).
import { serveFiles } from '../runner/parallel/serve.js';
import { workerRunner, type WorkerJob } from './jobs.js';

await serveFiles<WorkerJob>(workerRunner);
