// Findings of the engine itself: the capture frame and msgscope's own dissection.
import { declareFindings } from '../model/findings.js';

export const FRAME_FINDINGS = declareFindings({ protocol: 'frame' }, {
  snaplen: {
    id: 'frame.snaplen', severity: 'note', spec: 'anomaly', scope: 'frame',
    summary: 'the capture\'s snap length cut the frame: upper layers may be missing from the decode',
    requirement: 'No protocol rule: the capturing host kept fewer bytes than were on the wire (caplen < len), as tshark notes.',
  },
});

export const MSGSCOPE_FINDINGS = declareFindings({ protocol: 'msgscope' }, {
  internalError: {
    id: 'msgscope.internal-error', severity: 'error', spec: 'anomaly', scope: 'frame',
    summary: 'a dissector failed on this frame; the error was caught and the capture goes on',
    requirement: 'No protocol rule: msgscope MUST NOT stop on any input, so a dissector bug is reported as a finding instead.',
  },
});
