// Findings of the runner itself: how the timeline was put together.
import { declareFindings } from '../model/findings.js';

export const TIMELINE_FINDINGS = declareFindings({ protocol: 'timeline' }, {
  late: {
    id: 'timeline.late', severity: 'note', spec: 'bound', scope: 'frame',
    summary: 'the event completed after the reorder window had passed its place in frame order, so it is shown out of order',
    requirement: 'The timeline releases events in frame order once no pending state holds an earlier frame; a hold stops counting after 300 s of capture time, and the window holds at most 200,000 events, 64 MiB and one hour of capture time. An event completing after its place was passed is released at once.',
  },
});
