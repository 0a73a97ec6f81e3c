// Entry point of a --jobs worker thread: a reader of whole captures (read, timeline, audit
// over several captures) or a lane of one capture split by flow (timeline, audit).
import { workerData } from 'node:worker_threads';
import { serveLane } from '../runner/parallel/lane.js';
import { serveFiles } from '../runner/parallel/serve.js';
import { laneRunner, workerRunner, type WorkerJob } from './jobs.js';

if (typeof workerData === 'object' && workerData !== null && 'lane' in workerData) await serveLane<WorkerJob>(laneRunner);
else await serveFiles<WorkerJob>(workerRunner);
