import { access } from '../../http/principal.js';
import { idParams } from '../../http/params.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { Clock } from '../../lib/clock.js';
import {
  closureCreateSchema,
  closureListQuery,
  closurePageSchema,
  closureSchema,
  hoursSchema,
  hoursUpdateSchema,
  orderingSchema,
  pauseSchema,
  slotListSchema,
  slotsQuery,
} from './schemas.js';
import { addClosure, getHours, listClosures, listSlots, pauseOrdering, removeClosure, replaceHours, resumeOrdering } from './service.js';

export function registerScheduleRoutes(api: ApiRouter, clock: Clock): void {
  const tags = ['schedule'];

  defineRoute(api, {
    method: 'get',
    path: '/v1/restaurant/hours',
    summary: 'Opening hours and ordering settings',
    description:
      'Weekly opening ranges in local wall-clock time (a range whose closes is not after opens runs past midnight; "24:00" is the end of the day), the lead time, the slot length, the cap of orders per slot and how many days ahead orders may be placed. Empty weekly hours mean always open.',
    tags,
    access: access.public,
    responses: { 200: { description: 'The hours and settings', schema: hoursSchema } },
    handler: async ({ tenant }) => ({ status: 200, body: await getHours(api.deps.db, tenant.id) }),
  });

  defineRoute(api, {
    method: 'put',
    path: '/v1/restaurant/hours',
    summary: 'Replace the opening hours and ordering settings (manager)',
    description:
      'Replaces the weekly hours and settings; a setting left out goes back to its default. Ranges on one day must not overlap (a range past midnight counts on the next day too).',
    tags,
    access: access.manager,
    body: hoursUpdateSchema,
    responses: { 200: { description: 'The hours and settings as they now stand', schema: hoursSchema } },
    handler: async ({ tenant, body }) => ({ status: 200, body: await replaceHours(api.deps.db, tenant.id, body) }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/restaurant/closures',
    summary: 'Closures (whole local days without ordering), by first day',
    description: 'Holidays and other whole local days on which no order is taken and no slot is offered.',
    tags,
    access: access.public,
    query: closureListQuery,
    responses: { 200: { description: 'A page of closures', schema: closurePageSchema } },
    handler: async ({ tenant, query }) => ({ status: 200, body: await listClosures(api.deps.db, tenant.id, { limit: query.limit, cursor: query.cursor }) }),
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/restaurant/closures',
    summary: 'Close whole local days, ends_on included (manager)',
    description: 'Closes the local days from starts_on to ends_on, both included; ends_on before starts_on is refused.',
    tags,
    access: access.manager,
    body: closureCreateSchema,
    responses: { 201: { description: 'The closure', schema: closureSchema } },
    handler: async ({ tenant, body }) => ({ status: 201, body: await addClosure(api.deps.db, tenant.id, body) }),
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/restaurant/closures/{id}',
    summary: 'Remove a closure (manager)',
    description: 'The days open again as the weekly hours say.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Removed' } },
    handler: async ({ tenant, params }) => {
      await removeClosure(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/restaurant/pause',
    summary: 'Stop ASAP orders for some minutes; orders for later slots stay possible (staff)',
    description:
      'A rush or a kitchen problem: ASAP orders are refused with restaurant_closed (reason paused) until the pause ends; orders for later slots are still taken. Answers the ordering status.',
    tags,
    access: access.staff,
    body: pauseSchema,
    responses: { 200: { description: 'The ordering status the pause leaves', schema: orderingSchema } },
    handler: async ({ tenant, body, principal }) => {
      if (principal === undefined) throw new Error('a staff route runs for a signed-in caller');
      const ordering = await pauseOrdering(api.deps.db, tenant, clock(), { minutes: body.minutes, reason: body.reason, pausedBy: principal.sub });
      return { status: 200, body: ordering };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/restaurant/pause',
    summary: 'Take ASAP orders again at once (staff)',
    description: 'Ends a pause now; nothing to end is fine.',
    tags,
    access: access.staff,
    responses: { 204: { description: 'Resumed (also when there was no pause)' } },
    handler: async ({ tenant }) => {
      await resumeOrdering(api.deps.db, tenant.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/restaurant/slots',
    summary: 'The slots of a local day that can be ordered for, as instants',
    description:
      'Every slot of that local day (default today) inside the hours, outside closures, starting at least the lead time from now and within the order-ahead window; a full slot is listed with available false. remaining is null without a cap.',
    tags,
    access: access.public,
    query: slotsQuery,
    responses: { 200: { description: 'Slots from the earliest; a full one is listed with available false', schema: slotListSchema } },
    handler: async ({ tenant, query }) => ({ status: 200, body: { data: await listSlots(api.deps.db, tenant, query.date, clock()) } }),
  });
}
