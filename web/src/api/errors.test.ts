import { describe, expect, it } from 'vitest';
import { ApiError, describeError, parseApiError, parseRetryAfter } from './errors';
import { ApiClient } from './client';

describe('parseApiError', () => {
  it('reads the contract shape', () => {
    const e = parseApiError(422, JSON.stringify({ error: { code: 'GAR_008', message: 'no garment found' } }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('GAR_008');
    expect(e.message).toBe('no garment found');
    expect(e.status).toBe(422);
  });
  it('falls back to the status for non-JSON bodies', () => {
    expect(parseApiError(413, '<html>too big</html>').code).toBe('IMG_007');
    expect(parseApiError(401, '').code).toBe('AUTH_001');
    expect(parseApiError(502, 'Bad Gateway').code).toBe('HTTP_502');
    expect(parseApiError(502, 'Bad Gateway').message).toBe('Bad Gateway');
    expect(parseApiError(500, '').message).toMatch(/500/);
  });
  it('tolerates other JSON shapes', () => {
    expect(parseApiError(400, '{"error":"bad thing"}').message).toBe('bad thing');
    expect(parseApiError(400, '{"code":"X_1","message":"m"}').code).toBe('X_1');
    expect(parseApiError(409, '{"error":{"message":"no code"}}').code).toBe('STATE_409');
  });
  it('reads Retry-After', () => {
    const e = parseApiError(429, '{"error":{"code":"RATE_429","message":"slow down"}}', '7');
    expect(e.retryAfter).toBe(7);
    expect(describeError(e.code, e.retryAfter).hint).toMatch(/7 s/);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfter(null)).toBeNull();
  });
  it('has a hint for every contract code', () => {
    for (const c of ['IMG_004', 'IMG_007', 'GAR_008', 'NOT_FOUND', 'AUTH_001', 'AUTH_002', 'RATE_429', 'SSRF_001', 'STATE_409']) {
      expect(describeError(c).title).not.toBe('Error');
    }
    expect(describeError('HTTP_503').title).toBe('Server error');
  });
  it("has a hint for every code the server sends, and the wait of a quota", () => {
    const server = ['VAL_001', 'GEN_002', 'RET_003', 'IMG_004', 'MOD_005', 'POS_006', 'IMG_007', 'GAR_008', 'AST_009', 'PER_010',
      'INF_011', 'BOD_012', 'CFG_013', 'IO_014', 'SAF_015', 'LIM_016', 'BUD_017', 'PRV_018', 'REQ_019', 'AUTH_020', 'AUTH_021',
      'NOT_022', 'STA_023', 'LIM_024', 'URL_025', 'DB_027', 'OBJ_028', 'REQ_029', 'PAY_030', 'QUO_031', 'PAY_032'];
    for (const c of server) expect(describeError(c).title, c).not.toBe('Error');
    const quota = parseApiError(429, '{"error":{"code":"QUO_031","message":"Monthly quota exceeded"}}', '86400');
    expect(describeError(quota.code, quota.retryAfter).hint).toMatch(/Wait 24 h/);
  });
});

describe('ApiClient', () => {
  const fake = (status: number, body: string, headers: Record<string, string> = {}) => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const f = async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return new Response(status === 204 ? null : body, { status, headers });
    };
    return { f, calls };
  };

  it('sends the bearer header to relative URLs', async () => {
    const { f, calls } = fake(200, '{"id":"u","name":"e2e","role":"user","plan":"free","credits":100}');
    const me = await new ApiClient('k3y', f).me();
    expect(me.credits).toBe(100);
    expect(calls[0].url).toBe('/api/me');
    expect(new Headers(calls[0].init?.headers).get('Authorization')).toBe('Bearer k3y');
  });
  it('throws ApiError and reports 401', async () => {
    const { f } = fake(401, '{"error":{"code":"AUTH_001","message":"unknown key"}}');
    const c = new ApiClient('bad', f);
    let told = false;
    c.onUnauthorized = () => (told = true);
    await expect(c.me()).rejects.toMatchObject({ code: 'AUTH_001', status: 401 });
    expect(told).toBe(true);
  });
  it('turns network failures into NETWORK', async () => {
    const c = new ApiClient('k', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(c.me()).rejects.toMatchObject({ code: 'NETWORK', status: 0 });
  });
  it('posts session requests as JSON and accepts 204', async () => {
    const { f, calls } = fake(202, '{"sessionId":"s1"}');
    const c = new ApiClient('k', f);
    const r = await c.createSession({ avatarId: 'a', garmentId: 'g', quality: '4k', preferences: { tier: 'ultra' } });
    expect(r.sessionId).toBe('s1');
    expect(calls[0].init?.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ avatarId: 'a', garmentId: 'g', quality: '4k', preferences: { tier: 'ultra' } });
    const del = fake(204, '');
    await expect(new ApiClient('k', del.f).deleteAvatar('x/y')).resolves.toBeUndefined();
    expect(del.calls[0].url).toBe('/api/avatars/x%2Fy');
  });
});
