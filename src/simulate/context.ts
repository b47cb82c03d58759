import type { FieldPath } from '../validate/reporter.js';

/** How the simulation tells what it did and what it refused, without knowing about files. */
export interface SimulationContext {
  /** An error on an input object's field, reported as FILE:LINE: KIND NS/NAME: FIELD: message. */
  error(object: object, path: FieldPath, message: string): void;
  /** `FILE:LINE` of an input object's field, for messages that name a second object. */
  where(object: object, path: FieldPath): string;
  /** One line per allocation or placement, for -v. */
  note(line: string): void;
}
