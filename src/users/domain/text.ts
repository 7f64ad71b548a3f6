import { FieldError } from '../../common/domain-error';

// PostgreSQL cannot store NUL, and single-line fields have no business holding line breaks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LINE_BREAK = /[\r\n]/;

export interface TextRule {
  min?: number;
  max: number;
  multiline?: boolean;
}

/** Trims a text field and checks it; records a field error instead of throwing so all fields are reported at once. */
export function checkText(field: string, value: string, rule: TextRule, errors: FieldError[]): string {
  const text = value.trim();
  const length = [...text].length;
  if (rule.min !== undefined && length < rule.min) {
    errors.push({ field, message: `must be at least ${rule.min} characters` });
  } else if (length > rule.max) {
    errors.push({ field, message: `must be at most ${rule.max} characters` });
  } else if (CONTROL.test(text) || (!rule.multiline && LINE_BREAK.test(text))) {
    errors.push({ field, message: 'must not contain control characters' });
  }
  return text;
}

/** Optional text: `null`, `undefined` and blank all mean "no value". */
export function checkOptionalText(field: string, value: string | null | undefined, rule: TextRule, errors: FieldError[]): string | null {
  if (value === null || value === undefined) return null;
  const text = checkText(field, value, rule, errors);
  return text === '' ? null : text;
}
