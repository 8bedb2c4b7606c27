// The one place this module names the app's error type, so moving AppError (to src/lib) is a one-line change.
import { AppError, validationFailed, type FieldError } from '../../lib/errors.js';

export { AppError, validationFailed, type FieldError };

/**
 * Input the customer sent that the prices cannot be worked out from (a tip while tips are off, a
 * negative tip, both kinds of tip): `400 validation_failed`, with the field's path.
 */
export function invalidPricingInput(path: string, message: string): AppError {
  return validationFailed(`The request cannot be priced: ${path} ${message}`, [{ path, message }]);
}
