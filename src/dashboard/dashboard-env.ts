import type { Hono } from 'hono';
import type { CoreServices } from '../main.js';

/**
 * The contract between the dashboard's shell (sign-in, sessions, CSRF, layout) and its pages.
 * Every page file exports one PageRegistrar; dashboard-module.ts mounts them all under /dashboard
 * behind the session and CSRF middleware, so a page handler always has a signed-in user.
 */

export const DASHBOARD_ROLES = ['admin', 'manager', 'viewer'] as const;
export type DashboardRole = (typeof DASHBOARD_ROLES)[number];

export type DashboardUser = {
  id: string;
  username: string;
  role: DashboardRole;
  /** The first admin's printed password must be changed before anything else. */
  mustChangePassword: boolean;
};

export type DashboardEnv = {
  Variables: {
    user: DashboardUser;
    /** Put in every form as the hidden field `_csrf` (see CsrfField), and in htmx's hx-headers. */
    csrfToken: string;
  };
};

export type DashboardDeps = { core: CoreServices };

/** Registers a page's routes on the dashboard router; paths are relative to /dashboard. */
export type PageRegistrar = (app: Hono<DashboardEnv>, deps: DashboardDeps) => void;

/** The sections of the navigation, in order. */
export const NAV = [
  { key: 'approvals', label: 'Approvals', path: '/dashboard' },
  { key: 'conversations', label: 'Conversations', path: '/dashboard/conversations' },
  { key: 'escalations', label: 'Escalations', path: '/dashboard/escalations' },
  { key: 'plans', label: 'Payment plans', path: '/dashboard/plans' },
  { key: 'email', label: 'Email drafts', path: '/dashboard/email' },
  { key: 'metrics', label: 'Metrics', path: '/dashboard/metrics' },
  { key: 'sandbox', label: 'Sandbox phone', path: '/dashboard/sandbox' },
  { key: 'settings', label: 'Settings', path: '/dashboard/settings' },
] as const;
export type NavKey = (typeof NAV)[number]['key'];
