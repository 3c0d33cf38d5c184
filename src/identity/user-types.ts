/** Attribute values are strings; an attribute may hold one value or a list. */
export type AttributeValue = string | readonly string[];

export interface UserRecord {
  readonly name: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** Who is asking, as established by a verified token: the only input to policy evaluation. */
export interface Principal {
  readonly user: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

export function principalOf(user: UserRecord): Principal {
  const attributes: Record<string, readonly string[]> = {};
  for (const [key, value] of Object.entries(user.attributes)) {
    attributes[key] = typeof value === 'string' ? [value] : [...value];
  }
  return { user: user.name, groups: [...new Set(user.groups)].sort(), attributes };
}

export const USER_NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;
/** Wide enough for identity providers' group names (Keycloak paths, display names with spaces). */
export const GROUP_NAME_PATTERN = /^[\p{L}\p{N}_.@:/+ -]{1,256}$/u;
export const ATTRIBUTE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,63}$/;
