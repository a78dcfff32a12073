import type { ApiRoute } from '../api.js';
import { appointmentRoutes } from './appointments.js';
import { jobRoutes } from './jobs.js';
import { messageRoutes } from './messages.js';
import { suppressionRoutes } from './suppressions.js';

/** Every /v1 route, in the order the OpenAPI document lists them. */
export const API_ROUTES: readonly ApiRoute[] = [...messageRoutes, ...appointmentRoutes, ...jobRoutes, ...suppressionRoutes];
