// Checks for verify's machine formats that need no package: a strict XML 1.0 well-formedness
// parser for JUnit, and a structural check of SARIF 2.1.0 logs — the properties each object
// the verify sink writes may have (the schema's additionalProperties: false), the required
// ones, the enumerations, and the spec's cross-references (ruleIndex, artifact index, level
// 'none' for results whose kind is not 'fail', SARIF 2.1.0 §3.27.9–3.27.10).

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data, entities resolved. */
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
// eslint-disable-next-line no-control-regex
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function unescapeXml(text: string, where: number): string {
  if (text.includes('<')) throw new Error(`'<' in character data at ${where}`);
  if (BAD_CHAR.test(text)) throw new Error(`a character XML 1.0 forbids at ${where}`);
  return text.replace(/&([^;]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new Error(`bare '&' at ${where}`);
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (named[ref] !== undefined) return named[ref];
    const num = /^#(x[0-9A-Fa-f]+|[0-9]+)$/.exec(ref);
    if (num === null) throw new Error(`unknown entity &${ref}; at ${where}`);
    return String.fromCodePoint(num[1]!.startsWith('x') ? parseInt(num[1]!.slice(1), 16) : parseInt(num[1]!, 10));
  });
}

/** Parses one XML document (declaration, one root element, no DTD); throws where it is not well-formed. */
export function parseXml(doc: string): XmlElement {
  let i = 0;
  const skipSpace = (): void => {
    while (i < doc.length && /\s/.test(doc[i]!)) i++;
  };
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const element = (): XmlElement => {
    if (doc[i] !== '<') throw new Error(`expected '<' at ${i}`);
    i++;
    const name = NAME.exec(doc.slice(i))?.[0];
    if (name === undefined) throw new Error(`expected an element name at ${i}`);
    i += name.length;
    const e: XmlElement = { name, attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (doc.startsWith('/>', i)) {
        i += 2;
        return e;
      }
      if (doc[i] === '>') {
        i++;
        break;
      }
      const attr = NAME.exec(doc.slice(i))?.[0];
      if (attr === undefined) throw new Error(`expected an attribute at ${i}`);
      i += attr.length;
      skipSpace();
      if (doc[i] !== '=') throw new Error(`expected '=' at ${i}`);
      i++;
      skipSpace();
      const quote = doc[i];
      if (quote !== '"' && quote !== "'") throw new Error(`expected a quoted value at ${i}`);
      const end = doc.indexOf(quote, i + 1);
      if (end < 0) throw new Error(`unterminated attribute at ${i}`);
      if (Object.hasOwn(e.attrs, attr)) throw new Error(`attribute ${attr} twice at ${i}`);
      e.attrs[attr] = unescapeXml(doc.slice(i + 1, end), i);
      i = end + 1;
    }
    for (;;) {
      const next = doc.indexOf('<', i);
      if (next < 0) throw new Error(`element ${name} not closed`);
      e.text += unescapeXml(doc.slice(i, next), i);
      i = next;
      if (doc.startsWith('</', i)) {
        const close = `</${name}`;
        if (!doc.startsWith(close, i)) throw new Error(`expected ${close}> at ${i}`);
        i += close.length;
        skipSpace();
        if (doc[i] !== '>') throw new Error(`expected '>' at ${i}`);
        i++;
        return e;
      }
      e.children.push(element());
    }
  };
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== doc.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

// ---- SARIF 2.1.0 ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const KINDS = ['notApplicable', 'pass', 'fail', 'review', 'open', 'informational'];
const LEVELS = ['none', 'note', 'warning', 'error'];

/** The properties the schema allows on each object the verify sink writes. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  log: ['$schema', 'version', 'runs', 'inlineExternalProperties', 'properties'],
  run: ['tool', 'invocations', 'conversion', 'language', 'versionControlProvenance', 'originalUriBaseIds', 'artifacts', 'logicalLocations', 'graphs', 'results', 'automationDetails', 'runAggregates', 'baselineGuid', 'redactionTokens', 'defaultEncoding', 'defaultSourceLanguage', 'newlineSequences', 'columnKind', 'externalPropertyFileReferences', 'threadFlowLocations', 'taxonomies', 'addresses', 'translations', 'policies', 'webRequests', 'webResponses', 'specialLocations', 'properties'],
  tool: ['driver', 'extensions', 'properties'],
  toolComponent: ['guid', 'name', 'organization', 'product', 'productSuite', 'shortDescription', 'fullDescription', 'fullName', 'version', 'semanticVersion', 'dottedQuadFileVersion', 'releaseDateUtc', 'downloadUri', 'informationUri', 'globalMessageStrings', 'notifications', 'rules', 'taxa', 'locations', 'language', 'contents', 'isComprehensive', 'localizedDataSemanticVersion', 'minimumRequiredLocalizedDataSemanticVersion', 'associatedComponent', 'translationMetadata', 'supportedTaxonomies', 'properties'],
  reportingDescriptor: ['id', 'deprecatedIds', 'guid', 'deprecatedGuids', 'name', 'deprecatedNames', 'shortDescription', 'fullDescription', 'messageStrings', 'defaultConfiguration', 'helpUri', 'help', 'relationships', 'properties'],
  reportingConfiguration: ['enabled', 'level', 'rank', 'parameters', 'properties'],
  multiformatMessageString: ['text', 'markdown', 'properties'],
  message: ['text', 'markdown', 'id', 'arguments', 'properties'],
  artifact: ['description', 'location', 'parentIndex', 'offset', 'length', 'roles', 'mimeType', 'contents', 'encoding', 'sourceLanguage', 'hashes', 'lastModifiedTimeUtc', 'properties'],
  artifactLocation: ['uri', 'uriBaseId', 'index', 'description', 'properties'],
  invocation: ['commandLine', 'arguments', 'responseFiles', 'startTimeUtc', 'endTimeUtc', 'exitCode', 'ruleConfigurationOverrides', 'notificationConfigurationOverrides', 'toolExecutionNotifications', 'toolConfigurationNotifications', 'exitCodeDescription', 'exitSignalName', 'exitSignalNumber', 'processStartFailureMessage', 'executionSuccessful', 'machine', 'account', 'processId', 'executableLocation', 'workingDirectory', 'environmentVariables', 'stdin', 'stdout', 'stderr', 'stdoutStderr', 'properties'],
  notification: ['locations', 'message', 'level', 'threadId', 'timeUtc', 'exception', 'descriptor', 'associatedRule', 'properties'],
  result: ['guid', 'correlationGuid', 'ruleId', 'ruleIndex', 'rule', 'kind', 'level', 'message', 'analysisTarget', 'locations', 'webRequest', 'webResponse', 'fingerprints', 'partialFingerprints', 'codeFlows', 'graphs', 'graphTraversals', 'stacks', 'relatedLocations', 'suppressions', 'baselineState', 'rank', 'attachments', 'hostedViewerUri', 'workItemUris', 'provenance', 'fixes', 'taxa', 'properties'],
  location: ['id', 'physicalLocation', 'logicalLocations', 'message', 'annotations', 'relationships', 'properties'],
  physicalLocation: ['address', 'artifactLocation', 'region', 'contextRegion', 'properties'],
  logicalLocation: ['name', 'index', 'fullyQualifiedName', 'decoratedName', 'parentIndex', 'kind', 'properties'],
  suppression: ['guid', 'kind', 'status', 'justification', 'location', 'properties'],
};

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What is wrong with a SARIF 2.1.0 log, one line each (empty when nothing is). */
export function sarifProblems(value: unknown): string[] {
  const problems: string[] = [];
  const bad = (path: string, what: string): void => {
    problems.push(`${path}: ${what}`);
  };
  const object = (v: Json | undefined, path: string, kind: string, required: readonly string[] = []): Obj | undefined => {
    if (!isObj(v)) {
      bad(path, `expected a ${kind} object`);
      return undefined;
    }
    for (const k of Object.keys(v)) if (!ALLOWED[kind]!.includes(k)) bad(path, `property '${k}' is not allowed on ${kind}`);
    for (const k of required) if (v[k] === undefined) bad(path, `${kind} requires '${k}'`);
    const props = v['properties'];
    if (props !== undefined) {
      if (!isObj(props)) bad(`${path}.properties`, 'expected a property bag');
      else if (props['tags'] !== undefined) {
        const tags = props['tags'];
        if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string') || new Set(tags).size !== tags.length) bad(`${path}.properties.tags`, 'expected unique strings');
      }
    }
    return v;
  };
  const list = (v: Json | undefined, path: string): Json[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      bad(path, 'expected an array');
      return [];
    }
    return v;
  };
  const text = (v: Json | undefined, path: string, kind: 'message' | 'multiformatMessageString'): void => {
    const m = object(v, path, kind);
    if (m !== undefined && (typeof m['text'] !== 'string' || m['text'] === '')) bad(path, `${kind} requires a non-empty 'text'`);
  };
  const index = (v: Json | undefined, path: string, length: number): void => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v >= length) bad(path, `index ${JSON.stringify(v)} is out of range 0–${length - 1}`);
  };
  const level = (v: Json | undefined, path: string): void => {
    if (v !== undefined && !LEVELS.includes(v as string)) bad(path, `level ${JSON.stringify(v)} is not one of ${LEVELS.join(', ')}`);
  };

  const log = object(value as Json, '$', 'log', ['version', 'runs']);
  if (log === undefined) return problems;
  if (log['version'] !== '2.1.0') bad('$.version', 'expected "2.1.0"');
  if (log['$schema'] !== undefined && !/^https?:\/\/\S+sarif[^/]*2\.1\.0[^/]*\.json$/.test(String(log['$schema']))) bad('$.$schema', 'not a SARIF 2.1.0 schema URI');
  list(log['runs'], '$.runs').forEach((runValue, r) => {
    const p = `$.runs[${r}]`;
    const run = object(runValue, p, 'run', ['tool']);
    if (run === undefined) return;
    const tool = object(run['tool'], `${p}.tool`, 'tool', ['driver']);
    const driver = tool !== undefined ? object(tool['driver'], `${p}.tool.driver`, 'toolComponent', ['name']) : undefined;
    const ruleIds: string[] = [];
    list(driver?.['rules'], `${p}.tool.driver.rules`).forEach((ruleValue, i) => {
      const rp = `${p}.tool.driver.rules[${i}]`;
      const rule = object(ruleValue, rp, 'reportingDescriptor', ['id']);
      if (rule === undefined) return;
      const id = rule['id'];
      if (typeof id !== 'string' || ruleIds.includes(id)) bad(rp, `id ${JSON.stringify(id)} is not a unique string`);
      ruleIds.push(String(id));
      for (const k of ['shortDescription', 'fullDescription', 'help']) if (rule[k] !== undefined) text(rule[k], `${rp}.${k}`, 'multiformatMessageString');
      if (rule['defaultConfiguration'] !== undefined) {
        const c = object(rule['defaultConfiguration'], `${rp}.defaultConfiguration`, 'reportingConfiguration');
        level(c?.['level'], `${rp}.defaultConfiguration.level`);
      }
    });
    const artifacts = list(run['artifacts'], `${p}.artifacts`);
    const uris = artifacts.map((a, i) => {
      const art = object(a, `${p}.artifacts[${i}]`, 'artifact');
      const loc = art?.['location'] !== undefined ? object(art['location'], `${p}.artifacts[${i}].location`, 'artifactLocation') : undefined;
      return loc?.['uri'];
    });
    list(run['invocations'], `${p}.invocations`).forEach((invValue, i) => {
      const inv = object(invValue, `${p}.invocations[${i}]`, 'invocation', ['executionSuccessful']);
      if (inv !== undefined && typeof inv['executionSuccessful'] !== 'boolean') bad(`${p}.invocations[${i}]`, 'executionSuccessful must be a boolean');
      list(inv?.['toolExecutionNotifications'], `${p}.invocations[${i}].toolExecutionNotifications`).forEach((n, j) => {
        const np = `${p}.invocations[${i}].toolExecutionNotifications[${j}]`;
        const note = object(n, np, 'notification', ['message']);
        if (note !== undefined) text(note['message'], `${np}.message`, 'message');
        level(note?.['level'], `${np}.level`);
      });
    });
    list(run['results'], `${p}.results`).forEach((resValue, i) => {
      const rp = `${p}.results[${i}]`;
      const res = object(resValue, rp, 'result', ['message']);
      if (res === undefined) return;
      text(res['message'], `${rp}.message`, 'message');
      const kind = res['kind'] ?? 'fail';
      if (!KINDS.includes(kind as string)) bad(rp, `kind ${JSON.stringify(kind)} is not one of ${KINDS.join(', ')}`);
      level(res['level'], `${rp}.level`);
      if (kind !== 'fail' && res['level'] !== undefined && res['level'] !== 'none') bad(rp, `level must be 'none' when kind is ${String(kind)} (§3.27.10)`);
      if (typeof res['ruleId'] === 'string' && !ruleIds.includes(res['ruleId'])) bad(rp, `ruleId '${res['ruleId']}' is not among the driver's rules`);
      index(res['ruleIndex'], `${rp}.ruleIndex`, ruleIds.length);
      if (typeof res['ruleIndex'] === 'number' && res['ruleIndex'] >= 0 && res['ruleId'] !== undefined && ruleIds[res['ruleIndex']] !== res['ruleId']) bad(rp, 'ruleIndex does not point at ruleId');
      list(res['locations'], `${rp}.locations`).forEach((locValue, j) => {
        const lp = `${rp}.locations[${j}]`;
        const loc = object(locValue, lp, 'location');
        if (loc === undefined) return;
        if (loc['message'] !== undefined) text(loc['message'], `${lp}.message`, 'message');
        if (loc['physicalLocation'] !== undefined) {
          const phys = object(loc['physicalLocation'], `${lp}.physicalLocation`, 'physicalLocation');
          const art = phys?.['artifactLocation'] !== undefined ? object(phys['artifactLocation'], `${lp}.physicalLocation.artifactLocation`, 'artifactLocation') : undefined;
          if (art !== undefined) {
            index(art['index'], `${lp}.physicalLocation.artifactLocation.index`, artifacts.length);
            if (typeof art['index'] === 'number' && art['index'] >= 0 && art['uri'] !== undefined && uris[art['index']] !== art['uri']) bad(lp, 'artifactLocation.index does not point at its uri');
          }
        }
        list(loc['logicalLocations'], `${lp}.logicalLocations`).forEach((l, k) => {
          const ll = object(l, `${lp}.logicalLocations[${k}]`, 'logicalLocation');
          if (ll !== undefined && ll['name'] === undefined && ll['fullyQualifiedName'] === undefined) bad(`${lp}.logicalLocations[${k}]`, 'needs a name or fullyQualifiedName');
        });
      });
      if (res['partialFingerprints'] !== undefined) {
        const fp = res['partialFingerprints'];
        if (!isObj(fp) || Object.values(fp).some((v) => typeof v !== 'string')) bad(`${rp}.partialFingerprints`, 'expected string values');
      }
      list(res['suppressions'], `${rp}.suppressions`).forEach((s, j) => {
        const sup = object(s, `${rp}.suppressions[${j}]`, 'suppression', ['kind']);
        if (sup === undefined) return;
        if (!['inSource', 'external'].includes(sup['kind'] as string)) bad(`${rp}.suppressions[${j}]`, `kind ${JSON.stringify(sup['kind'])}`);
        if (sup['status'] !== undefined && !['accepted', 'underReview', 'rejected'].includes(sup['status'] as string)) bad(`${rp}.suppressions[${j}]`, `status ${JSON.stringify(sup['status'])}`);
      });
    });
  });
  return problems;
}
