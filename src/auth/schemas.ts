import { z } from '../http/zod.js';
import { EMAIL_MAX, nameField, phoneField } from '../modules/customers/schemas.js';

/** Lower-cased: the pool's email lookups are case-insensitive in Cognito but not in its emulator. */
export const emailField = z
  .string()
  .trim()
  .toLowerCase()
  .max(EMAIL_MAX)
  .email({ error: 'must be an email address' })
  .openapi({ example: 'ada@example.com', description: `An email address (at most ${EMAIL_MAX} characters), compared lower-cased` });

// Cognito's own maximum; the pool's password policy decides the rest.
const passwordField = z.string().min(1).max(256).openapi({ format: 'password', example: 'Correct-horse-1!' });

export const signUpSchema = z
  .object({
    email: emailField,
    password: passwordField.openapi({
      description: "Must meet the user pool's password policy (by default: 8 characters or more, upper and lower case, a number and a symbol)",
    }),
    name: nameField.optional(),
    phone: phoneField.optional(),
  })
  .openapi('SignUp');

export const signUpResultSchema = z
  .object({
    user_sub: z.string().openapi({ description: "The new user's Cognito sub" }),
    confirmed: z
      .boolean()
      .openapi({ description: 'False when a confirmation code was sent by email (POST /v1/auth/confirm); the embedded identity server confirms at once' }),
  })
  .openapi('SignUpResult');

export const confirmSchema = z
  .object({
    email: emailField,
    code: z.string().trim().min(1).max(32).regex(/^\S+$/, 'must be the code from the email').openapi({ example: '123456' }),
  })
  .openapi('ConfirmSignUp');

export const loginSchema = z.object({ email: emailField, password: passwordField }).openapi('Login');

export const refreshSchema = z.object({ refresh_token: z.string().min(1).max(8192) }).openapi('Refresh');

const sessionFields = {
  access_token: z.string().openapi({ description: 'Send as "Authorization: Bearer <access_token>"' }),
  id_token: z.string(),
  expires_in: z.number().int().openapi({ description: 'Seconds the access token is valid for' }),
};

export const loginResultSchema = z
  .object({ ...sessionFields, refresh_token: z.string().openapi({ description: 'For POST /v1/auth/refresh' }) })
  .openapi('LoginResult');

export const refreshResultSchema = z.object(sessionFields).openapi('RefreshResult');

export const forgotPasswordSchema = z.object({ email: emailField }).openapi('ForgotPassword');

export const resetPasswordSchema = z
  .object({
    email: emailField,
    code: confirmSchema.shape.code,
    password: passwordField.openapi({ description: "The new password; must meet the user pool's password policy" }),
  })
  .openapi('ResetPassword');

export const logoutSchema = z.object({ refresh_token: refreshSchema.shape.refresh_token }).openapi('Logout');
