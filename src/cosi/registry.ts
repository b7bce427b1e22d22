import { ResourceDefinitionSpec, ResourceDefinitionSpec_Sensitivity, NamespaceSpec } from '../api/gen/cosi/meta.js';
import { definitionYAML, type FilledDefinition, fillDefinition, type ResourceDefinition } from './definition.js';
import { StateError } from './errors.js';
import type { State } from './state.js';

export const MetaNamespace = 'meta';
export const NamespaceType = 'Namespaces.meta.cosi.dev';
export const ResourceDefinitionType = 'ResourceDefinitions.meta.cosi.dev';
const META_OWNER = 'meta';

interface NamespaceYAML {
  description: string;
}

/** The definitions of the meta resources themselves. */
const metaDefinitions: ResourceDefinition[] = [
  {
    type: NamespaceType,
    defaultNamespace: MetaNamespace,
    aliases: ['ns'],
    toProto: (s) => NamespaceSpec.encode(NamespaceSpec.fromPartial(s as NamespaceYAML)).finish(),
  },
  {
    type: ResourceDefinitionType,
    defaultNamespace: MetaNamespace,
    aliases: ['api-resources'],
    printColumns: [{ name: 'Aliases', jsonPath: '{.aliases[:]}' }],
    toProto: (s) => {
      const y = s as ReturnType<typeof definitionYAML>;
      return ResourceDefinitionSpec.encode(
        ResourceDefinitionSpec.fromPartial({
          resourceType: y.type as string,
          displayType: y.displayType as string,
          defaultNamespace: y.defaultNamespace as string,
          aliases: y.aliases as string[],
          allAliases: y.allAliases as string[],
          printColumns: y.printColumns as { name: string; jsonPath: string }[],
          sensitivity: y.sensitivity === 'sensitive' ? ResourceDefinitionSpec_Sensitivity.SENSITIVE : ResourceDefinitionSpec_Sensitivity.NON_SENSITIVE,
        }),
      ).finish();
    },
  },
];

/**
 * The namespaces and resource types a state knows, kept as `Namespaces.meta.cosi.dev` and
 * `ResourceDefinitions.meta.cosi.dev` resources (owner `meta`), as Talos shows them, plus the codecs of each type.
 */
export class Registry {
  private readonly defs = new Map<string, FilledDefinition>();
  private readonly namespaces = new Set<string>();

  constructor(private readonly state: State) {}

  /** Registers the meta namespace and the meta types. */
  async init(): Promise<void> {
    await this.registerNamespace(MetaNamespace, 'Metadata namespace which contains resource definitions.');
    for (const d of metaDefinitions) await this.register(d);
  }

  async registerNamespace(name: string, description: string): Promise<void> {
    await this.state.modify<NamespaceYAML>(
      { namespace: MetaNamespace, type: NamespaceType, id: name },
      () => ({ description }),
      (r) => {
        r.spec.description = description;
      },
      { owner: META_OWNER },
    );
    this.namespaces.add(name);
  }

  async register<S>(def: ResourceDefinition<S>): Promise<FilledDefinition<S>> {
    const filled = fillDefinition(def);
    const id = def.type.toLowerCase();
    if (this.defs.has(id)) throw new StateError('BRONZE_COSI_INVALID', `resource type ${def.type} is already registered`);
    await this.state.modify(
      { namespace: MetaNamespace, type: ResourceDefinitionType, id },
      () => ({}),
      (r) => {
        r.spec = definitionYAML(filled as FilledDefinition);
      },
      { owner: META_OWNER },
    );
    this.defs.set(id, filled as FilledDefinition);
    return filled;
  }

  /** The definition of a type (by its exact name, case-insensitively). */
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
