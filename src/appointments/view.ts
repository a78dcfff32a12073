/**
 * The appointments' read side for the producer and the HTTP server: they read the stored
 * appointment and its pending reminders, and never import the worker-side modules.
 */
export { pendingReminders, type PendingReminder } from './reminders.js';
export { AppointmentStore } from './store.js';
