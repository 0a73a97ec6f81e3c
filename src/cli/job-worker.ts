// Entry point of a --jobs worker thread: a reader of whole captures (read, timeline, audit
// over several captures) or a lane of one capture split by flow (read, timeline, audit).
import { workerData } from 'node:worker_threads';
import { serveLane } from '../runner/parallel/lane.js';
import { serveFiles } from '../runner/parallel/serve.js';
import { laneWork, workerRunner, type WorkerJob } from './jobs.js';

if (typeof workerData === 'object' && workerData !== null && 'lane' in workerData) await serveLane(laneWork);
else await serveFiles<WorkerJob>(workerRunner);
