import { ResourceDefinitionSpec, ResourceDefinitionSpec_Sensitivity, NamespaceSpec } from '../api/gen/cosi/meta.js';
import { type DefinitionYAML, definitionYAML, type FilledDefinition, fillDefinition, type ResourceDefinition } from './definition.js';
import { CosiError, isAlreadyExists } from './errors.js';
import { newResource } from './resource.js';
import type { State } from './state.js';

export const MetaNamespace = 'meta';
export const NamespaceType = 'Namespaces.meta.cosi.dev';
export const ResourceDefinitionType = 'ResourceDefinitions.meta.cosi.dev';
/** The owner of every meta resource. */
export const MetaOwner = 'meta';

/** Where the server and remote readers find a type's codecs. */
export interface DefinitionLookup {
  definition(type: string): FilledDefinition | undefined;
}

/** The spec of a `Namespaces.meta.cosi.dev` resource (YAML keys as Talos's). */
export interface NamespaceSpecYAML {
  description: string;
}

/** The spec of a `ResourceDefinitions.meta.cosi.dev` resource (YAML keys as Talos's). */
export type ResourceDefinitionSpecYAML = DefinitionYAML;

const namespaceDefinition: ResourceDefinition<NamespaceSpecYAML> = {
  type: NamespaceType,
  defaultNamespace: MetaNamespace,
  aliases: ['ns'],
  toProto: (s) => NamespaceSpec.encode(NamespaceSpec.fromPartial(s)).finish(),
  fromProto: (b) => ({ description: NamespaceSpec.decode(b).description }),
};

const resourceDefinitionDefinition: ResourceDefinition<ResourceDefinitionSpecYAML> = {
  type: ResourceDefinitionType,
  defaultNamespace: MetaNamespace,
  aliases: ['api-resources'],
  printColumns: [{ name: 'Aliases', jsonPath: '{.aliases[:]}' }],
  toProto: (y) =>
    ResourceDefinitionSpec.encode(
      ResourceDefinitionSpec.fromPartial({
        resourceType: y.type,
        displayType: y.displayType,
        defaultNamespace: y.defaultNamespace,
        aliases: y.aliases,
        allAliases: y.allAliases,
        printColumns: y.printColumns,
        sensitivity: y.sensitivity === 'sensitive' ? ResourceDefinitionSpec_Sensitivity.SENSITIVE : ResourceDefinitionSpec_Sensitivity.NON_SENSITIVE,
      }),
    ).finish(),
  fromProto: (b) => {
    const m = ResourceDefinitionSpec.decode(b);
    const out: ResourceDefinitionSpecYAML = {
      type: m.resourceType,
      displayType: m.displayType,
      defaultNamespace: m.defaultNamespace,
      aliases: m.aliases,
      allAliases: m.allAliases,
      printColumns: m.printColumns.map((c) => ({ name: c.name, jsonPath: c.jsonPath })),
    };
    if (m.sensitivity === ResourceDefinitionSpec_Sensitivity.SENSITIVE) out.sensitivity = 'sensitive';
    return out;
  },
};

/** The definitions of the meta resources themselves. */
const metaDefinitions = [namespaceDefinition, resourceDefinitionDefinition] as ResourceDefinition[];

/**
 * The namespaces and resource types a state knows, kept as `Namespaces.meta.cosi.dev` and
 * `ResourceDefinitions.meta.cosi.dev` resources (owner `meta`) as Talos shows them, plus each type's codecs.
 */
export class Registry implements DefinitionLookup {
  private readonly defs = new Map<string, FilledDefinition>();
  private readonly namespaces = new Set<string>();

  constructor(private readonly state: State) {}

  /** Registers the meta namespace and the two meta types. */
  async init(): Promise<void> {
    await this.registerNamespace(MetaNamespace, 'Resource and namespace definitions.');
    for (const d of metaDefinitions) await this.register(d);
  }

  /** Creates the namespace's meta resource; a namespace is registered once. */
  async registerNamespace(name: string, description: string): Promise<void> {
    if (!name) throw new CosiError('BRONZE_COSI_INVALID_DEFINITION', 'namespace name must not be empty');
    try {
      await this.state.create(newResource({ namespace: MetaNamespace, type: NamespaceType, id: name }, { description }), { owner: MetaOwner });
    } catch (e) {
      if (isAlreadyExists(e)) throw new CosiError('BRONZE_COSI_INVALID_DEFINITION', `namespace "${name}" is already registered`, { cause: e });
      throw e;
    }
    this.namespaces.add(name);
  }

  /** Checks a definition, derives its names and creates its meta resource; a type is registered once. */
  async register<S>(def: ResourceDefinition<S>): Promise<FilledDefinition<S>> {
    const filled = fillDefinition(def);
    const id = def.type.toLowerCase();
    if (this.defs.has(id)) throw new CosiError('BRONZE_COSI_INVALID_DEFINITION', `resource type "${def.type}" is already registered`);
    try {
      await this.state.create(newResource({ namespace: MetaNamespace, type: ResourceDefinitionType, id }, definitionYAML(filled as FilledDefinition)), { owner: MetaOwner });
    } catch (e) {
      if (isAlreadyExists(e)) throw new CosiError('BRONZE_COSI_INVALID_DEFINITION', `resource type "${def.type}" is already registered`, { cause: e });
      throw e;
    }
    this.defs.set(id, filled as FilledDefinition);
    return filled;
  }

  /** The definition of a type (its exact name, compared case-insensitively as Talos's resource definition IDs). */
  definition(type: string): FilledDefinition | undefined {
    return this.defs.get(type.toLowerCase());
  }

  hasNamespace(name: string): boolean {
    return this.namespaces.has(name);
  }

  definitions(): FilledDefinition[] {
    return [...this.defs.values()];
  }
}
