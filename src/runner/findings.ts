// Findings of the runner itself: how the timeline was put together.
import { declareFindings } from '../model/findings.js';

export const TIMELINE_FINDINGS = declareFindings({ protocol: 'timeline' }, {
  late: {
    id: 'timeline.late', severity: 'note', spec: 'bound', scope: 'frame',
    summary: 'the event completed after the reorder window had passed its place in frame order, so it is shown out of order',
    requirement: 'The timeline holds events in frame order within a window of 10,000 events and one hour of capture time; an event completing later is released at once.',
  },
});
