// Entry point of a --jobs worker thread for read and timeline (see jobs.ts).
import { serveFiles } from '../runner/parallel/serve.js';
import { workerRunner, type ListingJob } from './jobs.js';

await serveFiles<ListingJob>(workerRunner);
