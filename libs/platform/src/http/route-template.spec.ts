import { routeTemplate } from './route-template';

describe(routeTemplate.name, () => {
  it('joins the router mount point and the matched template, never the raw path', () => {
    expect(
      routeTemplate({ baseUrl: '/v2', route: { path: '/orders/:id' }, url: '/v2/orders/7' }),
    ).toBe('/v2/orders/:id');
    expect(routeTemplate({ route: { path: '/orders' } })).toBe('/orders');
  });

  it('is undefined before a route matched, and for the catch-all middleware route', () => {
    expect(routeTemplate({ url: '/orders/7' })).toBeUndefined();
    expect(routeTemplate({ route: { path: '/{*path}' } })).toBeUndefined();
    expect(routeTemplate({ route: { path: /regex/ } })).toBeUndefined();
  });
});
