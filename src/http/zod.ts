import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Schemas double as the OpenAPI document's source, so every module imports `z` from here: the
// `.openapi()` extension is then guaranteed to be installed before any schema is declared.
extendZodWithOpenApi(z);

export { z };
