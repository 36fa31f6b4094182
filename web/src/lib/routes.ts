// The studio's client routes. Tabs are hash routes (`#/gallery`), which
// need nothing from the server; the admin dashboard lives at the path
// `/admin/dashboard` (the server answers index.html for unknown paths), and
// `#/admin/dashboard` reaches it too.

export type Route = 'studio' | 'gallery' | 'catalogue' | 'billing' | 'admin';

const HASHES: Record<Route, string> = {
  studio: '#/',
  gallery: '#/gallery',
  catalogue: '#/catalogue',
  billing: '#/billing',
  admin: '#/admin/dashboard',
};

export const ADMIN_PATH = '/admin/dashboard';

export function routeOf(pathname: string, hash: string): Route {
  if (pathname.replace(/\/+$/, '') === ADMIN_PATH) return 'admin';
  const found = (Object.keys(HASHES) as Route[]).find((r) => HASHES[r] === hash);
  return found ?? 'studio';
}

/** The URL of a route: the admin dashboard by path, the rest by hash on `/`. */
export function urlOf(route: Route): string {
  return route === 'admin' ? ADMIN_PATH : `/${HASHES[route]}`;
}
