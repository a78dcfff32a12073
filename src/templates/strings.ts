import type { Locale } from './format.js';

export type TemplateKind = 'confirmation' | 'rescheduled' | 'cancelled' | 'J-1' | 'H-1';
/** What the host is told (README "The host is told"). */
export type HostKind = 'confirmation' | 'rescheduled' | 'cancelled';

/**
 * The words around the values. Every function receives values already prepared for its
 * target (HTML-escaped for the HTML part, raw for text and SMS), so no value can reach
 * the HTML without escaping.
 */
export interface Values {
  title: string;
  name: string;
  host: string;
  date: string;
  shortDate: string;
  time: string;
  zone: string;
  duration: string;
  link: string;
  /** BOOKING_MANAGE_URL for this appointment, or empty. */
  manage: string;
}

export interface Strings {
  subject: Record<TemplateKind, (v: Values) => string>;
  intro: Record<TemplateKind, (v: Values) => string>;
  greeting: (v: Values) => string;
  when: (v: Values) => string;
  duration: (v: Values) => string;
  host: (v: Values) => string;
  join: string;
  linkLine: (v: Values) => string;
  manage: string;
  /** SMS: ` Modifier : <url>` */
  manageSms: (v: Values) => string;
  addToCalendar: string;
  /** The host's own wording: `v.name` is the attendee. */
  hostSubject: Record<HostKind, (v: Values) => string>;
  hostIntro: Record<HostKind, (v: Values) => string>;
  attendee: (v: Values) => string;
  /** SMS: `t` is ` "title"` or empty (the title is the part that gives way), `l` is ` link` or empty. */
  sms: Record<TemplateKind, (v: Values, t: string, l: string) => string>;
}

const fr: Strings = {
  subject: {
    confirmation: (v) => `Rendez-vous confirmé : ${v.title}`,
    rescheduled: (v) => `Rendez-vous déplacé : ${v.title}`,
    cancelled: (v) => `Rendez-vous annulé : ${v.title}`,
    'J-1': (v) => `Rappel : ${v.title}, ${v.shortDate} à ${v.time}`,
    'H-1': (v) => `Bientôt : ${v.title} à ${v.time}`,
  },
  intro: {
    confirmation: (v) => `Votre rendez-vous « ${v.title} » est confirmé.`,
    rescheduled: (v) => `Votre rendez-vous « ${v.title} » a été déplacé. Nouvel horaire :`,
    cancelled: (v) => `Votre rendez-vous « ${v.title} » a été annulé.`,
    'J-1': (v) => `Petit rappel : votre rendez-vous « ${v.title} » approche.`,
    'H-1': (v) => `Votre rendez-vous « ${v.title} » commence bientôt.`,
  },
  greeting: (v) => `Bonjour ${v.name},`,
  when: (v) => `Le ${v.date} à ${v.time} (${v.zone})`,
  duration: (v) => `Durée : ${v.duration} min`,
  host: (v) => `Avec : ${v.host}`,
  join: 'Rejoindre la visio',
  linkLine: (v) => `Rejoindre la visio : ${v.link}`,
  manage: 'Déplacer ou annuler le rendez-vous',
  manageSms: (v) => ` Modifier : ${v.manage}`,
  addToCalendar: 'Ajouter à Google Agenda',
  hostSubject: {
    confirmation: (v) => `Nouveau rendez-vous : ${v.title} avec ${v.name}`,
    rescheduled: (v) => `Rendez-vous déplacé : ${v.title} avec ${v.name}`,
    cancelled: (v) => `Rendez-vous annulé : ${v.title} avec ${v.name}`,
  },
  hostIntro: {
    confirmation: (v) => `${v.name} a réservé le rendez-vous « ${v.title} ».`,
    rescheduled: (v) => `Le rendez-vous « ${v.title} » avec ${v.name} a été déplacé. Nouvel horaire :`,
    cancelled: (v) => `Le rendez-vous « ${v.title} » avec ${v.name} a été annulé.`,
  },
  attendee: (v) => `Participant : ${v.name}`,
  sms: {
    confirmation: (v, t, l) => `Rendez-vous${t} confirmé le ${v.shortDate} à ${v.time}.${l}`,
    rescheduled: (v, t, l) => `Rendez-vous${t} déplacé au ${v.shortDate} à ${v.time}.${l}`,
    cancelled: (v, t) => `Rendez-vous${t} du ${v.shortDate} à ${v.time} annulé.`,
    'J-1': (v, t, l) => `Rappel : rendez-vous${t} le ${v.shortDate} à ${v.time}.${l}`,
    'H-1': (v, t, l) => `Rendez-vous${t} bientôt, à ${v.time} (${v.shortDate}).${l}`,
  },
};

const en: Strings = {
  subject: {
    confirmation: (v) => `Appointment confirmed: ${v.title}`,
    rescheduled: (v) => `Appointment moved: ${v.title}`,
    cancelled: (v) => `Appointment cancelled: ${v.title}`,
    'J-1': (v) => `Reminder: ${v.title}, ${v.shortDate} at ${v.time}`,
    'H-1': (v) => `Starting soon: ${v.title} at ${v.time}`,
  },
  intro: {
    confirmation: (v) => `Your appointment "${v.title}" is confirmed.`,
    rescheduled: (v) => `Your appointment "${v.title}" has been moved. New time:`,
    cancelled: (v) => `Your appointment "${v.title}" has been cancelled.`,
    'J-1': (v) => `A quick reminder: your appointment "${v.title}" is coming up.`,
    'H-1': (v) => `Your appointment "${v.title}" starts soon.`,
  },
  greeting: (v) => `Hello ${v.name},`,
  when: (v) => `${v.date} at ${v.time} (${v.zone})`,
  duration: (v) => `Duration: ${v.duration} min`,
  host: (v) => `With: ${v.host}`,
  join: 'Join the video call',
  linkLine: (v) => `Join the video call: ${v.link}`,
  manage: 'Move or cancel the appointment',
  manageSms: (v) => ` Manage: ${v.manage}`,
  addToCalendar: 'Add to Google Calendar',
  hostSubject: {
    confirmation: (v) => `New booking: ${v.title} with ${v.name}`,
    rescheduled: (v) => `Appointment moved: ${v.title} with ${v.name}`,
    cancelled: (v) => `Appointment cancelled: ${v.title} with ${v.name}`,
  },
  hostIntro: {
    confirmation: (v) => `${v.name} booked "${v.title}".`,
    rescheduled: (v) => `"${v.title}" with ${v.name} has been moved. New time:`,
    cancelled: (v) => `"${v.title}" with ${v.name} has been cancelled.`,
  },
  attendee: (v) => `Attendee: ${v.name}`,
  sms: {
    confirmation: (v, t, l) => `Appointment${t} confirmed for ${v.shortDate} at ${v.time}.${l}`,
    rescheduled: (v, t, l) => `Appointment${t} moved to ${v.shortDate} at ${v.time}.${l}`,
    cancelled: (v, t) => `Appointment${t} on ${v.shortDate} at ${v.time} is cancelled.`,
    'J-1': (v, t, l) => `Reminder: appointment${t} on ${v.shortDate} at ${v.time}.${l}`,
    'H-1': (v, t, l) => `Appointment${t} starts soon, at ${v.time} (${v.shortDate}).${l}`,
  },
};

export const STRINGS: Record<Locale, Strings> = { fr, en };
