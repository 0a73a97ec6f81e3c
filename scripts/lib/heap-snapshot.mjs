// Reads a V8 .heapsnapshot (streamed: snapshots of a large heap exceed what JSON.parse can
// take as one string) and summarises it: self size and count per kind of object (plain objects
// told apart by their first property names), retained sizes from the dominator tree, and that
// tree cut to its big holders, each with the field it hangs from (e.g. "Map via Engine.tcp").
import { openSync, readSync, closeSync } from 'node:fs';

/** Parses the snapshot file into typed arrays and a string table. */
export function readHeapSnapshot(path) {
  const fd = openSync(path, 'r');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  let state = 'header';
  let header = '';
  let meta;
  let nodes;
  let edges;
  let filled = 0;
  let number = -1;
  const strings = [];
  let seekCarry = '';
  let stringBytes = [];
  let inString = false;
  let escaped = false;
  const seek = (i, n, literal, next) => {
    const window = seekCarry + chunk.toString('latin1', i, n);
    const at = window.indexOf(literal);
    if (at < 0) {
      seekCarry = window.slice(-literal.length);
      return n;
    }
    const consumed = at + literal.length - seekCarry.length;
    seekCarry = '';
    state = next;
    return i + consumed;
  };
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let i = 0;
      while (i < n) {
        if (state === 'header') {
          const text = chunk.toString('latin1', i, n);
          const at = (header + text).indexOf('"nodes":[');
          if (at < 0) {
            header += text;
            i = n;
            continue;
          }
          const whole = header + text;
          meta = JSON.parse(`${whole.slice(0, whole.lastIndexOf(',', at))}}`).snapshot;
          nodes = new Uint32Array(meta.node_count * meta.meta.node_fields.length);
          edges = new Uint32Array(meta.edge_count * meta.meta.edge_fields.length);
          i += at + '"nodes":['.length - header.length;
          header = '';
          state = 'nodes';
          filled = 0;
        } else if (state === 'nodes' || state === 'edges') {
          const target = state === 'nodes' ? nodes : edges;
          for (; i < n; i++) {
            const c = chunk[i];
            if (c >= 48 && c <= 57) number = number < 0 ? c - 48 : number * 10 + (c - 48);
            else {
              if (number >= 0) {
                target[filled++] = number;
                number = -1;
              }
              if (c === 93) {
                i++;
                state = state === 'nodes' ? 'seek-edges' : 'seek-strings';
                filled = 0;
                break;
              }
            }
          }
        } else if (state === 'seek-edges') {
          i = seek(i, n, '"edges":[', 'edges');
        } else if (state === 'seek-strings') {
          i = seek(i, n, '"strings":[', 'strings');
        } else if (state === 'strings') {
          let start = inString ? i : -1;
          for (; i < n; i++) {
            const c = chunk[i];
            if (inString) {
              if (escaped) escaped = false;
              else if (c === 92) escaped = true;
              else if (c === 34) {
                stringBytes.push(chunk.subarray(start, i + 1));
                strings.push(JSON.parse(Buffer.concat(stringBytes).toString('utf8')));
                stringBytes = [];
                inString = false;
                start = -1;
              }
            } else if (c === 34) {
              inString = true;
              start = i;
            } else if (c === 93) {
              state = 'done';
              i = n;
              break;
            }
          }
          if (inString && start >= 0) stringBytes.push(Buffer.from(chunk.subarray(start, n)));
        } else {
          i = n;
        }
      }
      if (state === 'done') break;
    }
  } finally {
    closeSync(fd);
  }
  return { meta, nodes, edges, strings };
}

/**
 * Summarises a parsed snapshot: per kind of object, count, self bytes and retained bytes (of
 * the instances not dominated by another instance of the same kind); and the largest single
 * retainers with the edge that holds them.
 */
export function summariseHeap({ meta, nodes, edges, strings }) {
  const nf = meta.meta.node_fields;
  const ef = meta.meta.edge_fields;
  const NF = nf.length;
  const EF = ef.length;
  const nType = nf.indexOf('type');
  const nName = nf.indexOf('name');
  const nSize = nf.indexOf('self_size');
  const nEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const nodeTypes = meta.meta.node_types[nType];
  const edgeTypes = meta.meta.edge_types[eType];
  const count = nodes.length / NF;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += nodes[i * NF + nEdges] * EF;
    firstEdge[i + 1] = e;
  }
  const WEAK = edgeTypes.indexOf('weak');
  const SHORTCUT = edgeTypes.indexOf('shortcut');
  const PROPERTY = edgeTypes.indexOf('property');
  const ELEMENT = edgeTypes.indexOf('element');
  const HIDDEN = edgeTypes.indexOf('hidden');
  const edgeName = (e) => {
    const t = edges[e + eType];
    return t === ELEMENT || t === HIDDEN ? `[${edges[e + eName]}]` : strings[edges[e + eName]];
  };

  // What kind of object each node is.
  const kindIds = new Map();
  const kindNames = [];
  const kindIndex = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const type = nodeTypes[nodes[i * NF + nType]];
    const name = strings[nodes[i * NF + nName]];
    let kind;
    if (type === 'object') {
      kind = name;
      if (name === 'Object') {
        const props = [];
        for (let e = firstEdge[i]; e < firstEdge[i + 1] && props.length < 4; e += EF) if (edges[e + eType] === PROPERTY) props.push(strings[edges[e + eName]]);
        kind = `Object {${props.join(', ')}${props.length === 4 ? ', …' : ''}}`;
      }
    } else if (type === 'closure') kind = `closure ${name || '(anonymous)'}`;
    else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') kind = '(string)';
    else if (type === 'array') kind = `(array ${name})`;
    else if (type === 'hidden' || type === 'native' || type === 'synthetic') kind = `(${type}) ${name}`;
    else kind = `(${type})`;
    let id = kindIds.get(kind);
    if (id === undefined) {
      id = kindNames.length;
      kindIds.set(kind, id);
      kindNames.push(kind);
    }
    kindIndex[i] = id;
  }

  // Dominators (Cooper, Harvey, Kennedy), over strong edges from the root (node 0).
  const order = new Int32Array(count).fill(-1); // postorder number
  const byOrder = new Uint32Array(count);
  const parentEdge = new Int32Array(count).fill(-1);
  const parentNode = new Uint32Array(count);
  const stack = new Uint32Array(count);
  const cursor = new Uint32Array(count);
  let sp = 0;
  let post = 0;
  const visited = new Uint8Array(count);
  stack[sp++] = 0;
  visited[0] = 1;
  cursor[0] = firstEdge[0];
  while (sp > 0) {
    const v = stack[sp - 1];
    let pushed = false;
    for (let e = cursor[v]; e < firstEdge[v + 1]; e += EF) {
      const t = edges[e + eType];
      if (t === WEAK || t === SHORTCUT) continue;
      const w = edges[e + eTo] / NF;
      if (visited[w] === 0) {
        visited[w] = 1;
        parentEdge[w] = e;
        parentNode[w] = v;
        cursor[v] = e + EF;
        cursor[w] = firstEdge[w];
        stack[sp++] = w;
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      sp--;
      order[v] = post;
      byOrder[post++] = v;
    }
  }
  // Predecessors of reachable nodes.
  const predCount = new Uint32Array(count + 1);
  for (let v = 0; v < count; v++) {
    if (visited[v] === 0) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) {
      const t = edges[e + eType];
      if (t === WEAK || t === SHORTCUT) continue;
      predCount[edges[e + eTo] / NF + 1]++;
    }
  }
  for (let i = 0; i < count; i++) predCount[i + 1] += predCount[i];
  const preds = new Uint32Array(predCount[count]);
  const fill = predCount.slice(0, count);
  for (let v = 0; v < count; v++) {
    if (visited[v] === 0) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) {
      const t = edges[e + eType];
      if (t === WEAK || t === SHORTCUT) continue;
      preds[fill[edges[e + eTo] / NF]++] = v;
    }
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a, b) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a];
      while (order[b] < order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = post - 1; k >= 0; k--) {
      const v = byOrder[k];
      if (v === 0) continue;
      let dom = -1;
      for (let p = predCount[v]; p < predCount[v + 1]; p++) {
        const u = preds[p];
        if (idom[u] < 0) continue;
        dom = dom < 0 ? u : intersect(u, dom);
      }
      if (dom >= 0 && idom[v] !== dom) {
        idom[v] = dom;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(count);
  for (let k = 0; k < post; k++) {
    const v = byOrder[k];
    retained[v] += nodes[v * NF + nSize];
    if (v !== 0) retained[idom[v]] += retained[v];
  }

  // Per kind: count, self size, and retained size of instances not inside another of their kind.
  const kinds = kindNames.map((name) => ({ name, count: 0, self: 0, retained: 0 }));
  let total = 0;
  for (let v = 0; v < count; v++) {
    if (visited[v] === 0) continue;
    const k = kinds[kindIndex[v]];
    k.count++;
    k.self += nodes[v * NF + nSize];
    total += nodes[v * NF + nSize];
    // Nested: an instance of the same kind dominates it (looked for a bounded way up).
    let d = idom[v];
    let nested = false;
    for (let steps = 0; d > 0 && steps < 64; steps++) {
      if (kindIndex[d] === kindIndex[v]) {
        nested = true;
        break;
      }
      d = idom[d];
    }
    if (!nested) k.retained += retained[v];
  }

  // The dominator tree cut to the nodes that retain at least 1% of the heap (and 256 KB): who
  // holds the bytes, with the field each holder is reached by. Synthetic roots are walked through.
  const describe = (v) => {
    const e = parentEdge[v];
    if (e < 0) return kindNames[kindIndex[v]];
    return `${kindNames[kindIndex[v]]} via ${kindNames[kindIndex[parentNode[v]]]}.${edgeName(e)}`;
  };
  const threshold = Math.max(256 * 1024, total / 100);
  const children = new Map();
  for (let v = 1; v < count; v++) {
    if (visited[v] === 0 || retained[v] < threshold) continue;
    const list = children.get(idom[v]) ?? [];
    list.push(v);
    children.set(idom[v], list);
  }
  // Printed compactly: a chain of single holders is one line (a → b → c), siblings that are
  // the same kind held by the same field are one line (n × …).
  const kidsOf = (v) => {
    const out = [];
    for (const c of children.get(v) ?? []) {
      if (nodeTypes[nodes[c * NF + nType]] === 'synthetic') out.push(...kidsOf(c));
      else out.push(c);
    }
    return out.sort((a, b) => retained[b] - retained[a]);
  };
  const tree = [];
  const walkTree = (v, depth) => {
    let label = describe(v);
    let end = v;
    for (let kids = kidsOf(end); kids.length === 1 && retained[kids[0]] >= 0.9 * retained[end]; kids = kidsOf(end)) {
      end = kids[0];
      label += ` → ${kindNames[kindIndex[end]]} (.${edgeName(parentEdge[end])})`;
    }
    tree.push({ depth, what: label, retained: retained[v], count: 1 });
    if (tree.length >= 60 || depth >= 8) return;
    const groups = new Map();
    for (const c of kidsOf(end)) {
      const key = describe(c);
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { first: c, count: 1, retained: retained[c] });
      else {
        g.count++;
        g.retained += retained[c];
      }
    }
    for (const [key, g] of groups) {
      if (g.count === 1) walkTree(g.first, depth + 1);
      else tree.push({ depth: depth + 1, what: `${g.count} × ${key}`, retained: g.retained, count: g.count });
    }
  };
  for (const c of kidsOf(0)) walkTree(c, 0);
  return { nodes: count, reachableBytes: total, kinds: kinds.filter((k) => k.count > 0).sort((a, b) => b.self - a.self), tree };
}
