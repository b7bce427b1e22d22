import type { DependencyEdge } from './controller.js';

/** A resource shown in the graph when it is drawn with live resources. */
export interface GraphResource {
  namespace: string;
  type: string;
  id: string;
  owner: string;
}

export interface GraphOptions {
  /**
   * Draw these resources (grouped by type) instead of resource types, as `talosctl inspect dependencies
   * --with-resources` does: outputs link to the resources their controller owns, inputs to every resource of the
   * input (or the one named by its ID). Destroy-ready inputs are left out to reduce clutter.
   */
  resources?: readonly GraphResource[];
}

const q = (s: string) => JSON.stringify(s);

/** Attributes as graphviz text, keys sorted. */
const attrs = (a: Record<string, string>) =>
  `[${Object.keys(a)
    .sort()
    .map((k) => `${k}=${q(a[k]!)}`)
    .join(',')}]`;

/**
 * The controller dependency graph in graphviz dot, drawn as talosctl draws it: controllers as boxes, resource types
 * as filled notes; exclusive outputs bold, shared outputs solid, strong inputs solid and weak inputs dotted (labelled
 * with the input's ID when it has one), destroy-ready inputs left out. Nodes are numbered in order of first appearance.
 */
export function dependencyGraphDot(edges: readonly DependencyEdge[], opts: GraphOptions = {}): string {
  const ids = new Map<string, string>();
  const nodes: string[] = [];
  const lines: string[] = [];
  const node = (key: string, a: Record<string, string>) => {
    let id = ids.get(key);
    if (!id) {
      id = `n${ids.size + 1}`;
      ids.set(key, id);
      nodes.push(`\t${id}${attrs(a)};`);
    }
    return id;
  };
  const controller = (name: string) => node(`c:${name}`, { label: name, shape: 'box' });
  const note = (key: string, label: string) => node(key, { fillcolor: 'azure2', label, shape: 'note', style: 'filled' });
  const edge = (from: string, to: string, a: Record<string, string>) => lines.push(`\t${from}->${to}${attrs(a)};`);

  if (!opts.resources) {
    for (const e of edges) {
      controller(e.controllerName);
      note(`t:${e.resourceType}`, e.resourceType);
    }
    for (const e of edges) {
      const c = controller(e.controllerName);
      const t = note(`t:${e.resourceType}`, e.resourceType);
      const label: Record<string, string> = e.resourceId ? { label: e.resourceId } : {};
      if (e.edgeType === 'OUTPUT_EXCLUSIVE') edge(c, t, { style: 'bold' });
      else if (e.edgeType === 'OUTPUT_SHARED') edge(c, t, { style: 'solid' });
      else if (e.edgeType === 'INPUT_STRONG') edge(t, c, { ...label, style: 'solid' });
      else if (e.edgeType === 'INPUT_WEAK') edge(t, c, { ...label, style: 'dotted' });
      // destroy-ready inputs are left out, as talosctl does, to reduce clutter
    }
    return `digraph  {\n${[...nodes, ...lines].join('\n')}\n}\n`;
  }

  const rid = (r: GraphResource) => `${r.namespace}/${r.type}/${r.id}`;
  for (const e of edges) controller(e.controllerName);
  const byType = new Map<string, GraphResource[]>();
  for (const r of opts.resources) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const clusters: string[] = [];
  let n = 0;
  for (const [type, rs] of byType) {
    const members = rs.map((r) => note(`r:${rid(r)}`, rid(r)));
    const body = members.map((id) => `\t\t${id};`).join('\n');
    clusters.push(`\tsubgraph cluster_s${n++} {\n\t\tlabel=${q(type)};\n${body}\n\t}`);
  }
  for (const e of edges) {
    const c = controller(e.controllerName);
    for (const r of byType.get(e.resourceType) ?? []) {
      if (e.resourceId !== '' && r.id !== e.resourceId) continue;
      const output = e.edgeType === 'OUTPUT_EXCLUSIVE' || e.edgeType === 'OUTPUT_SHARED';
      if (output && r.owner !== e.controllerName) continue;
      if (!output && e.resourceNamespace !== r.namespace) continue;
      const t = note(`r:${rid(r)}`, rid(r));
      if (output) edge(c, t, { style: 'solid' });
      else if (e.edgeType === 'INPUT_STRONG') edge(t, c, { style: 'solid' });
      else if (e.edgeType === 'INPUT_WEAK') edge(t, c, { style: 'dotted' });
    }
  }
  return `digraph  {\n${[...clusters, ...nodes, ...lines].join('\n')}\n}\n`;
}
