import type { Hl7Delimiters } from './delimiters.js';
import { escapeHl7, unescapeHl7 } from './escape.js';

/** HL7's explicit null: the receiver must delete its stored value. */
export const NULL_VALUE = '""';

/**
 * One repetition of a field. Reading and writing several of its parts through one object splits
 * the field once, which keeps work linear in fields with thousands of repetitions.
 */
export class Hl7Repetition {
  private text: string;
  /** `text` split at the component separator, once a component has been read. */
  private components: string[] | undefined;
  private readonly delimiters: Hl7Delimiters;
  private readonly charset: string | undefined;

  /**
   * @param text - the repetition as written (escaped)
   * @param delimiters - the delimiters of its message
   * @param charset - its message's declared character set, for `\X..\`; omit when undeclared
   */
  constructor(text: string, delimiters: Hl7Delimiters, charset?: string) {
    this.text = text;
    this.delimiters = delimiters;
    this.charset = charset;
  }

  /**
   * Reads the whole repetition, a component or a subcomponent, unescaped. `""` reads as `null`,
   * an absent part as ''.
   *
   * @param component - component number; omit for the whole repetition
   * @param subcomponent - subcomponent number; omit for the whole component
   */
  get(component?: number, subcomponent?: number): string | null {
    const d = this.delimiters;
    let part = this.text;
    if (component !== undefined) {
      this.components ??= part.split(d.component);
      part = this.components[component - 1] ?? '';
      if (subcomponent !== undefined) {
        part = part.split(d.subcomponent)[subcomponent - 1] ?? '';
      }
    }
    return part === NULL_VALUE ? null : unescapeHl7(part, d, this.charset);
  }

  /**
   * Writes the whole repetition, a component or a subcomponent, escaping the value. `null`
   * writes `""`; trailing empty parts are trimmed.
   *
   * @param value - the new value, unescaped
   * @param component - component number; omit to replace the whole repetition
   * @param subcomponent - subcomponent number; omit to replace the whole component
   */
  set(value: string | null, component?: number, subcomponent?: number): void {
    const d = this.delimiters;
    const written = value === null ? NULL_VALUE : escapeHl7(value, d);
    // The split is about to change; a later read splits the new text.
    const split = this.components;
    this.components = undefined;
    if (component === undefined) {
      this.text = written;
      return;
    }

    const components = this.text === '' ? [] : (split ?? this.text.split(d.component));
    if (subcomponent === undefined) {
      components[component - 1] = written;
    } else {
      const current = components[component - 1] ?? '';
      const subcomponents = current === '' ? [] : current.split(d.subcomponent);
      subcomponents[subcomponent - 1] = written;
      components[component - 1] = joinParts(subcomponents, d.subcomponent);
    }
    this.text = joinParts(components, d.component);
  }

  /** The repetition as it is now written (escaped). */
  toText(): string {
    return this.text;
  }
}

/**
 * Joins parts with a delimiter, filling holes with '' and dropping trailing empty parts.
 *
 * @param parts - the parts, possibly sparse
 * @param delimiter - the delimiter to join with
 */
export function joinParts(parts: string[], delimiter: string): string {
  let end = parts.length;
  while (end > 0 && (parts[end - 1] ?? '') === '') {
    end--;
  }
  // `join` writes holes, `undefined` and `null` as ''.
  return end === parts.length ? parts.join(delimiter) : parts.slice(0, end).join(delimiter);
}
