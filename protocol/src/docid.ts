/** Document ids: `[A-Za-z0-9][A-Za-z0-9._:~-]{0,255}` (DESIGN.md, data model). */
export const DOC_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,255}$/;

export function isValidDocId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 256 && DOC_ID_PATTERN.test(id);
}
