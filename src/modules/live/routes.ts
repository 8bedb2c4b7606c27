import type { Request } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { access, type Principal } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { AppError, validationFailed } from '../../http/errors.js';
import type { Tenant } from '../../http/tenant.js';
import type { UserDirectory } from '../../auth/user-pool-admin.js';
import { customerForPrincipal } from '../customers/service.js';
import { eventId, orderStreamEventSchema, orderStreamHeaders, orderStreamQuery, streamTicketSchema } from './schemas.js';
import { issueStreamTicket, redeemStreamTicket, type StreamViewer } from './tickets.js';
import type { OrderStreams, StreamStart } from './stream.js';

const tags = ['live'];

/**
 * Registered before the order routes: `/v1/orders/stream` must not be read as `/v1/orders/{id}`.
 */
export function registerLiveRoutes(api: ApiRouter, directory: UserDirectory, streams: OrderStreams, metrics: Registry): void {
  new Gauge({
    name: 'tablekit_order_streams_open',
    help: 'Order event streams (SSE) this process holds open',
    registers: [metrics],
    collect() {
      this.set(streams.size);
    },
  });

  const viewerOf = async (tenant: Tenant, principal: Principal): Promise<StreamViewer> => {
    const role = await api.deps.authenticator.staffRole(api.deps.db, tenant.id, principal.sub);
    if (role !== undefined) return { kind: 'staff', sub: principal.sub, role };
    return { kind: 'customer', sub: principal.sub, customerId: (await customerForPrincipal(api.deps.db, directory, tenant.id, principal)).id };
  };

  defineRoute(api, {
    method: 'post',
    path: '/v1/stream-tickets',
    summary: 'A single-use ticket (60 s) to open the order stream where headers cannot be sent (EventSource)',
    tags,
    access: access.signedIn,
    description:
      'Browsers cannot send an Authorization header with EventSource: this exchanges the bearer token for a ticket to put in the stream URL ' +
      '(`GET /v1/orders/stream?ticket=...`). It is good once, for 60 s, for the caller in this restaurant; tokens never go in a URL.',
    responses: { 201: { description: 'The ticket; it is for the caller, in this restaurant', schema: streamTicketSchema } },
    handler: async ({ tenant, principal, res }) => {
      res.setHeader('Cache-Control', 'no-store');
      const viewer = await viewerOf(tenant, principal);
      return { status: 201, body: await issueStreamTicket(api.deps.db, tenant.id, viewer, streams.clock()) };
    },
  });

  api.registry.register('OrderStreamEvent', orderStreamEventSchema);

  defineRoute(api, {
    method: 'get',
    path: '/v1/orders/stream',
    summary: 'Order events as they happen (Server-Sent Events): staff get the restaurant’s, a customer their own',
    tags,
    // The restaurant comes from the domain, or from the ticket (an EventSource cannot send X-Restaurant-Domain).
    tenant: false,
    // A bearer token or a ticket: the handler insists on one of them.
    access: access.optional,
    query: orderStreamQuery,
    headers: orderStreamHeaders,
    responses: {
      200: {
        description:
          'text/event-stream. Each event: `id:` the event id, `event: order.placed | order.updated`, `data:` an OrderStreamEvent. ' +
          'A comment line every 15 s. With Last-Event-ID (header) or last_event_id (query), what happened after that event, up to 24 h back, comes first. ' +
          'At shutdown the stream ends with a `retry:` hint: reconnect with Last-Event-ID.',
      },
    },
    description:
      'Server-Sent Events of order changes, resumable with Last-Event-ID, fed across instances by Postgres LISTEN/NOTIFY. ' +
      'Sign in with a bearer token, or with a stream ticket in the query where headers cannot be sent.',
    errors: {
      unauthenticated: 'No token or ticket, or a ticket used, expired or for another restaurant',
      // tenant: false, so the router does not add it: a bearer token's domain is still looked up here.
      restaurant_not_found: 'Signed in with a bearer token at a domain no restaurant is served at',
      service_unavailable: 'This instance holds as many streams as it can, or is shutting down (Retry-After)',
    },
    handler: async ({ req, res, query, principal }) => {
      const start = startOf(req, query.last_event_id);
      const slot = streams.reserve();
      try {
        const { restaurantId, viewer } = principal !== undefined ? await signedInWatcher(req, principal) : await ticketWatcher(req, query.ticket);
        await slot.open(res, restaurantId, viewer, start);
      } catch (error) {
        slot.release();
        throw error;
      }
      // The stream has answered (its headers are sent) and goes on by itself.
      return { status: 200 };
    },
  });

  async function signedInWatcher(req: Request, principal: Principal) {
    const tenant = await api.deps.tenants.resolve(req);
    return { restaurantId: tenant.id, viewer: await viewerOf(tenant, principal) };
  }

  async function ticketWatcher(req: Request, ticket: string | undefined) {
    if (ticket === undefined) {
      throw new AppError(
        'unauthenticated',
        401,
        'Send an access token as "Authorization: Bearer <token>", or a ticket from POST /v1/stream-tickets as ?ticket=',
        undefined,
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    // A domain that names a restaurant must name the ticket's; one that names none (a bare host in development) defers to the ticket.
    const named = await api.deps.tenants.resolve(req).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'restaurant_not_found') return undefined;
      throw error;
    });
    const redeemed = await redeemStreamTicket(api.deps.db, ticket, streams.clock());
    if (redeemed === undefined || (named !== undefined && named.id !== redeemed.restaurantId)) {
      throw new AppError('unauthenticated', 401, 'The stream ticket is not valid: it was used already, has expired, or is for another restaurant');
    }
    return redeemed;
  }
}

/** The header wins: EventSource sends it on reconnecting, with the URL (and its query) of the first connection. */
function startOf(req: Request, fromQuery: string | undefined): StreamStart {
  const header = req.get('last-event-id');
  const raw = header !== undefined && header.trim() !== '' ? header.trim() : fromQuery;
  if (raw === undefined) return { kind: 'now' };
  const parsed = eventId.safeParse(raw);
  if (!parsed.success)
    throw validationFailed('Last-Event-ID must be an event id from this stream', [{ path: 'last-event-id', message: 'must be an event id' }]);
  return { kind: 'after', eventId: Number(parsed.data) };
}
