// Runs the published @backstage/catalog-client, unchanged, against a Greenroom
// server and checks that every call returns what it returns against Backstage.
//
// Environment:
//   GREENROOM_URL               base URL of the server, e.g. http://127.0.0.1:7007
//   GREENROOM_FIXTURE_BASE_URL  base URL of a static server for ./fixtures/remote
//                               (the server's backend.reading.allow must list its host)
//   GREENROOM_FIXTURE_CATALOG   absolute path of ./fixtures/catalog.yaml as written
//                               in the server's catalog.locations (default: its real path)
//
// server/tests/catalog_client.rs starts everything and runs this file; see it
// for the app-config the expectations assume.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import {
  REMOTE_RELATIONS,
  REVERSE_RELATION,
  fileFixtureEntities,
  generatedLocationName,
  locationEntity,
  remoteProcessedEntities,
} from './expected.mjs';

const GREENROOM_URL = process.env.GREENROOM_URL?.replace(/\/+$/, '');
const FIXTURE_BASE_URL = process.env.GREENROOM_FIXTURE_BASE_URL?.replace(/\/+$/, '');
const FIXTURE_CATALOG =
  process.env.GREENROOM_FIXTURE_CATALOG ??
  realpathSync(fileURLToPath(new URL('./fixtures/catalog.yaml', import.meta.url)));

const FILE = fileFixtureEntities(FIXTURE_CATALOG);
const FILE_REFS = Object.keys(FILE);
const REMOTE_TARGET = `${FIXTURE_BASE_URL}/catalog-info.yaml`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const catalog = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${GREENROOM_URL}/api/catalog` },
  fetchApi: { fetch },
});

// ---- helpers ---------------------------------------------------------------------

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value; throws with `what` on timeout. */
async function waitFor(what, probe, { timeoutMs = 60_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last result: ${describeValue(last)}`);
    }
    await sleep(intervalMs);
  }
}

function describeValue(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return JSON.stringify(value);
}

/** Canonical ref of an entity, the way Backstage's stringifyEntityRef writes it. */
function refOf(entity) {
  const ns = entity.metadata.namespace ?? 'default';
  return `${entity.kind}:${ns}/${entity.metadata.name}`.toLocaleLowerCase('en-US');
}

function byRef(a, b) {
  return refOf(a) < refOf(b) ? -1 : refOf(a) > refOf(b) ? 1 : 0;
}

function compareRelations(a, b) {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return a.targetRef < b.targetRef ? -1 : a.targetRef > b.targetRef ? 1 : 0;
}

/**
 * Checks the server-set metadata (uid is a UUID, etag a non-empty string) and
 * returns the entity without them, with relations reduced to {type, targetRef}
 * and sorted, so it can be compared with the expectations in expected.mjs.
 */
function comparable(entity) {
  assert.ok(entity, 'entity is missing');
  const { uid, etag, ...metadata } = entity.metadata;
  assert.match(uid ?? '', UUID, `metadata.uid of ${refOf(entity)} is not a UUID: ${uid}`);
  assert.equal(typeof etag, 'string', `metadata.etag of ${refOf(entity)} is not a string`);
  assert.ok(etag.length > 0, `metadata.etag of ${refOf(entity)} is empty`);
  const out = { ...entity, metadata };
  if (Array.isArray(entity.relations)) {
    out.relations = entity.relations
      .map(({ type, targetRef }) => ({ type, targetRef }))
      .sort(compareRelations);
  }
  return out;
}

const names = items => items.map(e => e?.metadata?.name);
const refs = items => items.map(e => (e ? refOf(e) : e));

/**
 * Asserts that `promise` rejects with the ResponseError the client builds from a
 * Backstage error body: `{error:{name,message}, request:{method,url}, response:{statusCode}}`
 * served as application/json (otherwise the client reports the cause as a plain "Error").
 */
async function assertResponseError(promise, { statusCode, statusText, name, message, request }) {
  await assert.rejects(promise, error => {
    assert.equal(error.name, 'ResponseError', `expected a ResponseError, got ${error.name}: ${error.message}`);
    assert.equal(error.statusCode, statusCode, `status: ${error.message}; body ${JSON.stringify(error.body)}`);
    if (statusText) {
      assert.equal(error.message, `Request failed with ${statusCode} ${statusText}`);
    }
    assert.equal(error.body?.response?.statusCode, statusCode, `body.response.statusCode in ${JSON.stringify(error.body)}`);
    assert.equal(error.cause?.name, name, `error.name in body ${JSON.stringify(error.body)}`);
    if (message instanceof RegExp) {
      assert.match(error.cause.message, message);
    } else {
      assert.equal(error.cause.message, message);
    }
    if (request) {
      assert.deepEqual(error.body.request, request);
    }
    return true;
  });
}

/** True once every file fixture entity is stitched with all of its relations. */
async function fileFixtureSettled() {
  const { items } = await catalog.getEntitiesByRefs({ entityRefs: FILE_REFS });
  return items.every(
    (entity, i) => entity && entity.relations?.length === FILE[FILE_REFS[i]].relations.length,
  );
}

// ---- the run -----------------------------------------------------------------------

before(async () => {
  assert.ok(
    GREENROOM_URL,
    'GREENROOM_URL is not set: start Greenroom with the fixture app-config (server/tests/catalog_client.rs does) and set GREENROOM_URL=http://127.0.0.1:<port>',
  );
  assert.ok(
    FIXTURE_BASE_URL,
    'GREENROOM_FIXTURE_BASE_URL is not set: serve tests/catalog-client/fixtures/remote over HTTP and pass its base URL',
  );
  let readiness;
  try {
    readiness = await fetch(`${GREENROOM_URL}/.backstage/health/v1/readiness`);
  } catch (error) {
    throw new Error(`cannot reach Greenroom at ${GREENROOM_URL}: ${error.cause?.code ?? error.cause?.message ?? error.message}`);
  }
  assert.equal(readiness.status, 200, `${GREENROOM_URL}/.backstage/health/v1/readiness answered ${readiness.status}`);
  const fixture = await fetch(REMOTE_TARGET);
  assert.equal(fixture.status, 200, `the fixture server answered ${fixture.status} for ${REMOTE_TARGET}`);
  // The harness waits for the components; relations on the far side of each
  // pair are stitched a moment later. Give them time, then let the tests
  // report precisely whatever is still different.
  try {
    await waitFor('the file fixture to be stitched with all relations', fileFixtureSettled, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  } catch (error) {
    console.error(`warning: ${error.message}`);
  }
});

describe('stitched entities and relations', () => {
  it('getEntityByRef returns every fixture entity as Backstage stitches it', async () => {
    for (const ref of FILE_REFS) {
      const entity = await catalog.getEntityByRef(ref);
      assert.ok(entity, `${ref} not found`);
      assert.deepEqual(comparable(entity), FILE[ref], `entity ${ref}`);
    }
  });

  it('relations are distinct and sorted by type, then targetRef', async () => {
    for (const ref of FILE_REFS) {
      const { relations } = await catalog.getEntityByRef(ref);
      const pairs = relations.map(r => `${r.type} ${r.targetRef}`);
      assert.equal(new Set(pairs).size, pairs.length, `duplicate relations on ${ref}: ${pairs}`);
      assert.deepEqual(
        relations.map(({ type, targetRef }) => ({ type, targetRef })),
        [...relations].map(({ type, targetRef }) => ({ type, targetRef })).sort(compareRelations),
        `relation order on ${ref}`,
      );
    }
  });

  it('relations[] carry type and a canonical, lower-case targetRef', async () => {
    const { items } = await catalog.getEntities({ filter: { 'metadata.namespace': 'default' } });
    for (const entity of items) {
      for (const relation of entity.relations) {
        assert.match(relation.type, /^\w+$/);
        assert.match(relation.targetRef, /^[a-z0-9]+:[a-z0-9-]+\/[a-z0-9._-]+$/, JSON.stringify(relation));
        // Only the legacy compound `target` may accompany them (harmless for old clients).
        for (const key of Object.keys(relation)) {
          assert.ok(['type', 'targetRef', 'target'].includes(key), `unexpected relation key ${key}`);
        }
        if (relation.target) {
          const { kind, namespace, name } = relation.target;
          assert.equal(`${kind}:${namespace}/${name}`.toLowerCase(), relation.targetRef);
        }
      }
    }
  });

  it('ownedBy and ownerOf point at each other, both ways', async () => {
    const web = await catalog.getEntityByRef('component:default/artist-web');
    const alice = await catalog.getEntityByRef('user:default/alice');
    const team = await catalog.getEntityByRef('group:default/team-a');
    assert.deepEqual(
      web.relations.filter(r => r.type === 'ownedBy').map(r => r.targetRef),
      ['user:default/alice'],
    );
    assert.deepEqual(
      alice.relations.filter(r => r.type === 'ownerOf').map(r => r.targetRef),
      ['component:default/artist-web'],
    );
    assert.deepEqual(
      team.relations.filter(r => r.type === 'ownerOf').map(r => r.targetRef),
      [
        'api:default/artist-api',
        'component:default/artist-service',
        'component:default/playback-lib',
        'resource:default/artist-db',
        'system:default/audio-platform',
      ],
    );
    for (const ownedRef of team.relations.filter(r => r.type === 'ownerOf').map(r => r.targetRef)) {
      const owned = await catalog.getEntityByRef(ownedRef);
      assert.ok(
        owned.relations.some(r => r.type === 'ownedBy' && r.targetRef === 'group:default/team-a'),
        `${ownedRef} lacks ownedBy group:default/team-a`,
      );
    }
  });

  it('every relation between fixture entities has its reverse on the target', async () => {
    const { items } = await catalog.getEntitiesByRefs({ entityRefs: FILE_REFS });
    const byRefMap = new Map(items.map(e => [refOf(e), e]));
    for (const entity of items) {
      for (const { type, targetRef } of entity.relations) {
        const target = byRefMap.get(targetRef);
        assert.ok(target, `${refOf(entity)} ${type} ${targetRef}: target not in the fixture`);
        const reverse = REVERSE_RELATION[type];
        assert.ok(
          target.relations.some(r => r.type === reverse && r.targetRef === refOf(entity)),
          `${targetRef} lacks ${reverse} ${refOf(entity)}`,
        );
      }
    }
  });

  it('entities read from a file location carry no orphan annotation and no status', async () => {
    for (const ref of FILE_REFS) {
      const entity = await catalog.getEntityByRef(ref);
      assert.equal(entity.metadata.annotations['backstage.io/orphan'], undefined, ref);
      assert.equal(entity.status, undefined, `${ref} has status ${JSON.stringify(entity.status)}`);
    }
  });
});

describe('getEntities', () => {
  const byName = { field: 'metadata.name', order: 'asc' };

  it('object filter: conditions in one object are ANDed', async () => {
    const { items } = await catalog.getEntities({ filter: { kind: 'component', 'spec.type': 'service' } });
    assert.deepEqual(refs(items), ['component:default/artist-service']);
    assert.deepEqual(comparable(items[0]), FILE['component:default/artist-service']);
  });

  it('array of values for one key is an OR on the values', async () => {
    const { items } = await catalog.getEntities({
      filter: { kind: 'component', 'spec.type': ['service', 'website'] },
      order: byName,
    });
    assert.deepEqual(names(items), ['artist-service', 'artist-web']);
  });

  it('array of filter objects is an OR of the sets', async () => {
    const { items } = await catalog.getEntities({
      filter: [{ kind: 'api' }, { kind: 'resource', 'spec.type': 'database' }],
      order: byName,
    });
    assert.deepEqual(refs(items), [
      'api:default/artist-api',
      'resource:default/artist-db',
      'api:default/playback-api',
    ]);
  });

  it('CATALOG_FILTER_EXISTS matches any value of a key', async () => {
    const consumers = await catalog.getEntities({
      filter: { kind: 'component', 'spec.consumesApis': CATALOG_FILTER_EXISTS },
      order: byName,
    });
    assert.deepEqual(names(consumers.items), ['artist-service', 'artist-web']);
    const documented = await catalog.getEntities({
      filter: { 'metadata.annotations.backstage.io/techdocs-ref': CATALOG_FILTER_EXISTS },
    });
    assert.deepEqual(refs(documented.items), ['component:default/artist-service']);
  });

  it('keys and values match case-insensitively', async () => {
    const { items } = await catalog.getEntities({ filter: { Kind: 'COMPONENT', 'Metadata.Name': 'Artist-Web' } });
    assert.deepEqual(refs(items), ['component:default/artist-web']);
  });

  it('array items match as key=value and as key.item', async () => {
    const asValue = await catalog.getEntities({ filter: { 'metadata.tags': 'java' }, order: byName });
    assert.deepEqual(names(asValue.items), ['artist-service', 'playback-lib']);
    const asKey = await catalog.getEntities({
      filter: { 'metadata.tags.java': CATALOG_FILTER_EXISTS },
      order: byName,
    });
    assert.deepEqual(names(asKey.items), ['artist-service', 'playback-lib']);
    const provided = await catalog.getEntities({ filter: { 'spec.providesApis.playback-api': 'true' } });
    assert.deepEqual(refs(provided.items), ['component:default/playback-lib']);
  });

  it('relations.<type>=<targetRef> filters by relation', async () => {
    const alices = await catalog.getEntities({ filter: { 'relations.ownedBy': 'user:default/alice' } });
    assert.deepEqual(refs(alices.items), ['component:default/artist-web']);
    const teams = await catalog.getEntities({
      filter: { kind: 'component', 'relations.ownedby': 'group:default/team-a' },
      order: byName,
    });
    assert.deepEqual(names(teams.items), ['artist-service', 'playback-lib']);
  });

  it('a filter that matches nothing returns an empty list', async () => {
    const { items } = await catalog.getEntities({ filter: { kind: 'component', 'spec.type': 'no-such-type' } });
    assert.deepEqual(items, []);
  });

  it('without a filter every entity is returned', async () => {
    const { items } = await catalog.getEntities();
    const all = new Set(refs(items));
    for (const ref of FILE_REFS) {
      assert.ok(all.has(ref), `${ref} missing from the unfiltered list`);
    }
    assert.ok(all.has(`location:default/${generatedLocationName('file', FIXTURE_CATALOG)}`), 'the Location entity of the configured file location is missing');
  });

  it('fields projects each entity to exactly the listed paths', async () => {
    const { items } = await catalog.getEntities({
      filter: { kind: 'component' },
      fields: ['metadata.name', 'spec.type'],
      order: byName,
    });
    assert.deepEqual(items, [
      { metadata: { name: 'artist-service' }, spec: { type: 'service' } },
      { metadata: { name: 'artist-web' }, spec: { type: 'website' } },
      { metadata: { name: 'playback-lib' }, spec: { type: 'library' } },
    ]);
  });

  it('fields may name annotation keys that contain dots and slashes', async () => {
    const { items } = await catalog.getEntities({
      filter: { kind: 'component' },
      fields: ['kind', 'metadata.name', 'metadata.annotations.backstage.io/techdocs-ref'],
      order: byName,
    });
    assert.deepEqual(items, [
      {
        kind: 'Component',
        metadata: { name: 'artist-service', annotations: { 'backstage.io/techdocs-ref': 'dir:.' } },
      },
      { kind: 'Component', metadata: { name: 'artist-web' } },
      { kind: 'Component', metadata: { name: 'playback-lib' } },
    ]);
  });

  it('order sorts by a field, ascending or descending', async () => {
    const desc = await catalog.getEntities({
      filter: { kind: 'component' },
      order: { field: 'spec.type', order: 'desc' },
    });
    assert.deepEqual(names(desc.items), ['artist-web', 'artist-service', 'playback-lib']);
    const asc = await catalog.getEntities({
      filter: { kind: 'component' },
      order: { field: 'spec.type', order: 'asc' },
    });
    assert.deepEqual(names(asc.items), ['playback-lib', 'artist-service', 'artist-web']);
  });

  // Backstage answers an unpaginated GET /entities through its by-query path,
  // which applies only the first order field; with limit/offset it applies all.
  it('with limit/offset, every order field applies in turn', async () => {
    const filter = { kind: ['component', 'api'] };
    const both = await catalog.getEntities({
      filter,
      order: [
        { field: 'kind', order: 'desc' },
        { field: 'metadata.name', order: 'desc' },
      ],
      limit: 10,
    });
    assert.deepEqual(refs(both.items), [
      'component:default/playback-lib',
      'component:default/artist-web',
      'component:default/artist-service',
      'api:default/playback-api',
      'api:default/artist-api',
    ]);
    const mixed = await catalog.getEntities({
      filter,
      order: [
        { field: 'kind', order: 'asc' },
        { field: 'metadata.name', order: 'asc' },
      ],
      offset: 0,
    });
    assert.deepEqual(refs(mixed.items), [
      'api:default/artist-api',
      'api:default/playback-api',
      'component:default/artist-service',
      'component:default/artist-web',
      'component:default/playback-lib',
    ]);
  });

  it('without limit/offset, the first order field decides', async () => {
    const { items } = await catalog.getEntities({
      filter: { kind: ['component', 'api'] },
      order: [
        { field: 'kind', order: 'asc' },
        { field: 'metadata.name', order: 'desc' },
      ],
    });
    assert.deepEqual(
      items.map(e => e.kind),
      ['API', 'API', 'Component', 'Component', 'Component'],
    );
  });

  it('entities lacking the order field come last when paginated, and are left out otherwise', async () => {
    const filter = { kind: ['component', 'group'] };
    for (const [order, expected] of [
      ['asc', ['playback-lib', 'artist-web', 'artist-service']],
      ['desc', ['artist-service', 'artist-web', 'playback-lib']],
    ]) {
      const paged = await catalog.getEntities({ filter, order: { field: 'spec.lifecycle', order }, limit: 10 });
      assert.deepEqual(names(paged.items), [...expected, 'team-a'], `${order}, paginated`);
      const streamed = await catalog.getEntities({ filter, order: { field: 'spec.lifecycle', order } });
      assert.deepEqual(names(streamed.items), expected, `${order}, unpaginated`);
    }
  });

  it('limit and offset page through the ordered list', async () => {
    const filter = { kind: 'component' };
    const first = await catalog.getEntities({ filter, order: byName, limit: 1 });
    assert.deepEqual(names(first.items), ['artist-service']);
    const rest = await catalog.getEntities({ filter, order: byName, limit: 2, offset: 1 });
    assert.deepEqual(names(rest.items), ['artist-web', 'playback-lib']);
    const past = await catalog.getEntities({ filter, order: byName, offset: 3 });
    assert.deepEqual(past.items, []);
  });
});

describe('getEntitiesByRefs', () => {
  // Refs are matched case-insensitively (the catalog lower-cases them).
  const requested = [
    'component:default/artist-web',
    'component:default/does-not-exist',
    'API:default/Artist-API',
  ];

  it('returns entities in request order, undefined for a missing ref', async () => {
    const { items } = await catalog.getEntitiesByRefs({ entityRefs: requested });
    assert.equal(items.length, 3);
    assert.deepEqual(comparable(items[0]), FILE['component:default/artist-web']);
    assert.equal(items[1], undefined);
    assert.deepEqual(comparable(items[2]), FILE['api:default/artist-api']);
  });

  it('fields projects each found entity', async () => {
    const { items } = await catalog.getEntitiesByRefs({
      entityRefs: requested,
      fields: ['kind', 'metadata.name'],
    });
    assert.deepEqual(items, [
      { kind: 'Component', metadata: { name: 'artist-web' } },
      undefined,
      { kind: 'API', metadata: { name: 'artist-api' } },
    ]);
  });

  it('filter blanks the slots of entities it excludes', async () => {
    const { items } = await catalog.getEntitiesByRefs({
      entityRefs: requested,
      filter: { kind: 'api' },
      fields: ['metadata.name'],
    });
    assert.deepEqual(items, [undefined, undefined, { metadata: { name: 'artist-api' } }]);
  });
});

describe('queryEntities', () => {
  const filter = { kind: 'component' };
  const orderFields = { field: 'metadata.name', order: 'asc' };

  it('pages forward with nextCursor and back with prevCursor', async () => {
    const first = await catalog.queryEntities({ filter, orderFields, limit: 2 });
    assert.deepEqual(names(first.items), ['artist-service', 'artist-web']);
    assert.deepEqual(comparable(first.items[0]), FILE['component:default/artist-service']);
    assert.equal(first.totalItems, 3);
    assert.equal(typeof first.pageInfo.nextCursor, 'string');
    assert.equal(first.pageInfo.prevCursor, undefined);

    const second = await catalog.queryEntities({ cursor: first.pageInfo.nextCursor, limit: 2 });
    assert.deepEqual(names(second.items), ['playback-lib']);
    assert.equal(second.totalItems, 3);
    assert.equal(second.pageInfo.nextCursor, undefined);
    assert.equal(typeof second.pageInfo.prevCursor, 'string');

    const back = await catalog.queryEntities({ cursor: second.pageInfo.prevCursor, limit: 2 });
    assert.deepEqual(names(back.items), ['artist-service', 'artist-web']);
    assert.equal(back.totalItems, 3);
    assert.equal(typeof back.pageInfo.nextCursor, 'string');
    assert.equal(back.pageInfo.prevCursor, undefined);
  });

  it('descending order pages the other way', async () => {
    const first = await catalog.queryEntities({
      filter,
      orderFields: { field: 'metadata.name', order: 'desc' },
      limit: 2,
    });
    assert.deepEqual(names(first.items), ['playback-lib', 'artist-web']);
    const second = await catalog.queryEntities({ cursor: first.pageInfo.nextCursor, limit: 2 });
    assert.deepEqual(names(second.items), ['artist-service']);
  });

  it('fields applies to the first page and to cursor pages', async () => {
    const fields = ['kind', 'metadata.name'];
    const first = await catalog.queryEntities({ filter, orderFields, limit: 2, fields });
    assert.deepEqual(first.items, [
      { kind: 'Component', metadata: { name: 'artist-service' } },
      { kind: 'Component', metadata: { name: 'artist-web' } },
    ]);
    const second = await catalog.queryEntities({ cursor: first.pageInfo.nextCursor, fields });
    assert.deepEqual(second.items, [{ kind: 'Component', metadata: { name: 'playback-lib' } }]);
  });

  it('offset skips into the first page', async () => {
    const page = await catalog.queryEntities({ filter, orderFields, limit: 1, offset: 1 });
    assert.deepEqual(names(page.items), ['artist-web']);
    assert.equal(page.totalItems, 3);
  });

  it('totalItems: exclude reports 0', async () => {
    const page = await catalog.queryEntities({ filter, orderFields, totalItems: 'exclude' });
    assert.deepEqual(names(page.items), ['artist-service', 'artist-web', 'playback-lib']);
    assert.equal(page.totalItems, 0);
  });

  it('without arguments returns everything with a matching totalItems', async () => {
    const page = await catalog.queryEntities();
    assert.equal(page.totalItems, page.items.length);
    const all = new Set(refs(page.items));
    for (const ref of FILE_REFS) assert.ok(all.has(ref), `${ref} missing`);
  });

  it('fullTextFilter matches a case-insensitive substring of the given fields', async () => {
    const page = await catalog.queryEntities({
      filter,
      orderFields,
      fullTextFilter: { term: 'ARTIST', fields: ['metadata.name'] },
    });
    assert.deepEqual(names(page.items), ['artist-service', 'artist-web']);
    assert.equal(page.totalItems, 2);

    const byType = await catalog.queryEntities({
      filter,
      orderFields,
      fullTextFilter: { term: 'web', fields: ['metadata.name', 'spec.type'] },
    });
    assert.deepEqual(names(byType.items), ['artist-web']);

    const camel = await catalog.queryEntities({
      filter: { kind: 'user' },
      fullTextFilter: { term: '  Alice ', fields: ['spec.profile.displayName'] },
    });
    assert.deepEqual(refs(camel.items), ['user:default/alice']);
    assert.equal(camel.totalItems, 1);
  });

  it('fullTextFilter without fields searches the order field', async () => {
    const page = await catalog.queryEntities({
      filter,
      orderFields,
      fullTextFilter: { term: 'play' },
    });
    assert.deepEqual(names(page.items), ['playback-lib']);
    assert.equal(page.totalItems, 1);
  });
});

describe('streamEntities', () => {
  it('yields every page by following nextCursor', async () => {
    const pages = [];
    for await (const page of catalog.streamEntities({
      filter: { kind: 'component' },
      orderFields: { field: 'metadata.name', order: 'asc' },
      pageSize: 2,
    })) {
      pages.push(names(page));
    }
    assert.deepEqual(pages, [['artist-service', 'artist-web'], ['playback-lib']]);
  });
});

// Newer clients send predicate queries to the POST endpoints.
describe('predicate queries', () => {
  it('queryEntities with query pages through POST /entities/by-query', async () => {
    const query = { kind: 'component', 'spec.type': { $in: ['service', 'website'] } };
    const orderFields = { field: 'metadata.name', order: 'desc' };
    const first = await catalog.queryEntities({ query, orderFields, limit: 1 });
    assert.deepEqual(names(first.items), ['artist-web']);
    assert.equal(first.totalItems, 2);
    assert.equal(typeof first.pageInfo.nextCursor, 'string');
    const second = await catalog.queryEntities({ cursor: first.pageInfo.nextCursor, limit: 1 });
    assert.deepEqual(names(second.items), ['artist-service']);
    assert.equal(second.pageInfo.nextCursor, undefined);
  });

  it('$exists, $not and $any combine', async () => {
    const { items } = await catalog.queryEntities({
      query: {
        $all: [
          { kind: 'component' },
          { $not: { 'spec.system': { $exists: true } } },
          { $any: [{ 'metadata.tags': 'java' }, { 'metadata.tags': 'frontend' }] },
        ],
      },
      orderFields: { field: 'metadata.name', order: 'asc' },
    });
    assert.deepEqual(names(items), ['playback-lib']);
  });

  it('getEntityFacets with query uses POST /entity-facets', async () => {
    const response = await catalog.getEntityFacets({
      facets: ['spec.lifecycle'],
      query: { kind: { $in: ['component', 'api'] } },
    });
    const sorted = [...response.facets['spec.lifecycle']].sort((a, b) => (a.value < b.value ? -1 : 1));
    assert.deepEqual(sorted, [
      { value: 'deprecated', count: 1 },
      { value: 'experimental', count: 2 },
      { value: 'production', count: 2 },
    ]);
  });

  it('getEntitiesByRefs with query blanks non-matching slots', async () => {
    const { items } = await catalog.getEntitiesByRefs({
      entityRefs: ['component:default/artist-web', 'api:default/artist-api', 'user:default/bob'],
      query: { kind: { $in: ['api', 'user'] } },
      fields: ['metadata.name'],
    });
    assert.deepEqual(items, [undefined, { metadata: { name: 'artist-api' } }, { metadata: { name: 'bob' } }]);
  });
});

describe('getEntityByRef', () => {
  it('accepts string refs with and without namespace, in any case', async () => {
    const expected = FILE['component:default/artist-service'];
    for (const ref of ['component:default/artist-service', 'component:artist-service', 'Component:Default/Artist-Service']) {
      assert.deepEqual(comparable(await catalog.getEntityByRef(ref)), expected, ref);
    }
  });

  it('accepts compound refs', async () => {
    const entity = await catalog.getEntityByRef({ kind: 'User', namespace: 'default', name: 'bob' });
    assert.deepEqual(comparable(entity), FILE['user:default/bob']);
  });

  it('returns undefined for a missing entity', async () => {
    assert.equal(await catalog.getEntityByRef('component:default/does-not-exist'), undefined);
    assert.equal(await catalog.getEntityByRef({ kind: 'API', namespace: 'nowhere', name: 'artist-api' }), undefined);
  });
});

describe('getEntityFacets', () => {
  const sortFacets = ({ facets }) =>
    Object.fromEntries(
      Object.entries(facets).map(([k, v]) => [k, [...v].sort((a, b) => (a.value < b.value ? -1 : 1))]),
    );

  it('counts kinds and spec.type, keyed as requested, values as written', async () => {
    const response = await catalog.getEntityFacets({
      facets: ['kind', 'spec.type'],
      filter: { 'metadata.namespace': 'default', kind: ['component', 'api', 'resource', 'system', 'group', 'user'] },
    });
    assert.deepEqual(Object.keys(response), ['facets']);
    assert.deepEqual(sortFacets(response), {
      kind: [
        { value: 'API', count: 2 },
        { value: 'Component', count: 3 },
        { value: 'Group', count: 1 },
        { value: 'Resource', count: 1 },
        { value: 'System', count: 1 },
        { value: 'User', count: 2 },
      ],
      'spec.type': [
        { value: 'database', count: 1 },
        { value: 'grpc', count: 1 },
        { value: 'library', count: 1 },
        { value: 'openapi', count: 1 },
        { value: 'service', count: 1 },
        { value: 'team', count: 1 },
        { value: 'website', count: 1 },
      ],
    });
  });

  it('counts array items and relations', async () => {
    const response = await catalog.getEntityFacets({
      facets: ['metadata.tags', 'relations.ownedBy'],
      filter: { kind: 'component' },
    });
    assert.deepEqual(sortFacets(response), {
      'metadata.tags': [
        { value: 'audio', count: 1 },
        { value: 'backend', count: 1 },
        { value: 'frontend', count: 1 },
        { value: 'java', count: 2 },
        { value: 'typescript', count: 1 },
      ],
      'relations.ownedBy': [
        { value: 'group:default/team-a', count: 2 },
        { value: 'user:default/alice', count: 1 },
      ],
    });
  });

  it('returns an empty list for a facet with no matching entity', async () => {
    const response = await catalog.getEntityFacets({ facets: ['kind'], filter: { kind: 'no-such-kind' } });
    assert.deepEqual(response, { facets: { kind: [] } });
  });
});

describe('getEntityAncestors', () => {
  it('walks from the entity up to the Location entity of the configured file', async () => {
    const fileLocation = locationEntity('file', FIXTURE_CATALOG);
    const locationRef = refOf(fileLocation);
    const response = await catalog.getEntityAncestors({ entityRef: 'component:default/artist-service' });
    assert.deepEqual(Object.keys(response).sort(), ['items', 'rootEntityRef']);
    assert.equal(response.rootEntityRef, 'component:default/artist-service');
    assert.equal(response.items.length, 2, JSON.stringify(response.items.map(i => [refOf(i.entity), i.parentEntityRefs])));
    assert.deepEqual(comparable(response.items[0].entity), FILE['component:default/artist-service']);
    assert.deepEqual(response.items[0].parentEntityRefs, [locationRef]);
    assert.deepEqual(comparable(response.items[1].entity), { ...fileLocation, relations: [] });
    assert.deepEqual(response.items[1].parentEntityRefs, []);
  });

  it('rejects with NotFoundError for a missing entity', async () => {
    await assertResponseError(catalog.getEntityAncestors({ entityRef: 'component:default/does-not-exist' }), {
      statusCode: 404,
      statusText: 'Not Found',
      name: 'NotFoundError',
      message: 'No such entity component:default/does-not-exist',
    });
  });
});

describe('locations', () => {
  let registered;

  it('getLocations lists only locations registered through the API (none yet)', async () => {
    assert.deepEqual(await catalog.getLocations(), { items: [] });
  });

  it('addLocation dryRun processes the target and stores nothing', async () => {
    const locationRef = `location:default/${generatedLocationName('url', REMOTE_TARGET)}`;
    const result = await catalog.addLocation({ type: 'url', target: REMOTE_TARGET, dryRun: true });
    assert.equal(result.exists, false);
    assert.deepEqual(result.location, {
      id: `url:${REMOTE_TARGET}`,
      type: 'url',
      target: REMOTE_TARGET,
      entityRef: locationRef,
    });
    // The generated Location entity comes first, then what it emitted; none of
    // them is stitched yet, so no uid, etag or relations.
    assert.deepEqual(result.entities[0], locationEntity('url', REMOTE_TARGET));
    const expected = remoteProcessedEntities(REMOTE_TARGET);
    assert.deepEqual([...result.entities.slice(1)].sort(byRef), Object.values(expected).sort(byRef));

    assert.deepEqual(await catalog.getLocations(), { items: [] });
    assert.equal(await catalog.getLocationByRef(`url:${REMOTE_TARGET}`), undefined);
    assert.deepEqual((await catalog.getEntities({ filter: { 'metadata.namespace': 'remote' } })).items, []);
    assert.equal(await catalog.getEntityByRef(locationRef), undefined);
  });

  it('addLocation registers the location (201 with id, no entities yet)', async () => {
    const result = await catalog.addLocation({ target: REMOTE_TARGET });
    assert.deepEqual(Object.keys(result.location).sort(), ['entityRef', 'id', 'target', 'type']);
    assert.match(result.location.id, UUID);
    assert.deepEqual(result.location, {
      id: result.location.id,
      type: 'url',
      target: REMOTE_TARGET,
      entityRef: `location:default/${generatedLocationName('url', REMOTE_TARGET)}`,
    });
    assert.deepEqual(result.entities, []);
    assert.equal(result.exists, undefined);
    registered = result.location;
  });

  it('the registered location is processed and its entities stitched', async () => {
    assert.ok(registered, 'registration failed');
    const processed = remoteProcessedEntities(REMOTE_TARGET);
    const remoteRefs = Object.keys(processed);
    const items = await waitFor(
      'the remote entities to be stitched with their relations',
      async () => {
        const { items } = await catalog.getEntitiesByRefs({ entityRefs: remoteRefs });
        const settled = items.every((e, i) => e && e.relations?.length === REMOTE_RELATIONS[remoteRefs[i]].length);
        return settled && items;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    for (const [i, ref] of remoteRefs.entries()) {
      assert.deepEqual(comparable(items[i]), { ...processed[ref], relations: REMOTE_RELATIONS[ref] }, ref);
    }
    const locationEntityRef = registered.entityRef;
    const stitchedLocation = await catalog.getEntityByRef(locationEntityRef);
    assert.deepEqual(comparable(stitchedLocation), { ...locationEntity('url', REMOTE_TARGET), relations: [] });
  });

  it('the owner gains ownerOf relations to the registered entities', async () => {
    const team = await waitFor('team-a to list the remote entities', async () => {
      const entity = await catalog.getEntityByRef('group:default/team-a');
      return entity.relations.some(r => r.targetRef === 'component:remote/remote-service') && entity;
    });
    const owned = team.relations.filter(r => r.type === 'ownerOf').map(r => r.targetRef);
    assert.ok(owned.includes('component:remote/remote-service'), JSON.stringify(owned));
    assert.ok(owned.includes('resource:remote/remote-cache'), JSON.stringify(owned));
  });

  it('dryRun of a registered target reports exists: true', async () => {
    const result = await catalog.addLocation({ target: REMOTE_TARGET, dryRun: true });
    assert.equal(result.exists, true);
  });

  it('getLocations, getLocationByRef and getLocationById return the location', async () => {
    assert.deepEqual(await catalog.getLocations(), { items: [registered] });
    assert.deepEqual(await catalog.getLocationByRef(`url:${REMOTE_TARGET}`), registered);
    assert.equal(await catalog.getLocationByRef(`url:${FIXTURE_BASE_URL}/not-registered.yaml`), undefined);
    assert.deepEqual(await catalog.getLocationById(registered.id), registered);
    assert.equal(await catalog.getLocationById(randomUUID()), undefined);
  });

  it('queryLocations and streamLocations return the location', async () => {
    assert.deepEqual(await catalog.queryLocations(), { items: [registered], totalItems: 1, pageInfo: {} });
    const pages = [];
    for await (const page of catalog.streamLocations()) pages.push(page);
    assert.deepEqual(pages, [[registered]]);
  });

  it('getLocationByEntity finds the registered origin of an entity', async () => {
    assert.deepEqual(await catalog.getLocationByEntity('component:remote/remote-service'), registered);
    assert.deepEqual(
      await catalog.getLocationByEntity({ kind: 'Resource', namespace: 'remote', name: 'remote-cache' }),
      registered,
    );
    // Entities from catalog.locations in app-config have no registered location.
    assert.equal(await catalog.getLocationByEntity('component:default/artist-service'), undefined);
    assert.equal(await catalog.getLocationByEntity('component:default/does-not-exist'), undefined);
  });

  it('getEntityAncestors of a registered entity ends at its Location entity', async () => {
    const response = await catalog.getEntityAncestors({ entityRef: 'component:remote/remote-service' });
    assert.equal(response.rootEntityRef, 'component:remote/remote-service');
    assert.deepEqual(
      response.items.map(i => [refOf(i.entity), i.parentEntityRefs]),
      [
        ['component:remote/remote-service', [registered.entityRef]],
        [registered.entityRef, []],
      ],
    );
  });

  it('addLocation of a registered target rejects with 409 ConflictError', async () => {
    await assertResponseError(catalog.addLocation({ target: REMOTE_TARGET }), {
      statusCode: 409,
      statusText: 'Conflict',
      name: 'ConflictError',
      message: `Location url:${REMOTE_TARGET} already exists`,
      request: { method: 'POST', url: '/locations' },
    });
  });

  it('addLocation of a type other than url rejects with 400 InputError', async () => {
    await assertResponseError(catalog.addLocation({ type: 'file', target: FIXTURE_CATALOG }), {
      statusCode: 400,
      statusText: 'Bad Request',
      name: 'InputError',
      message: 'Registered locations must be of an allowed type ["url"]',
    });
  });

  it('removeLocationById removes the location and the entities only it provided', async () => {
    assert.ok(registered, 'registration failed');
    await catalog.removeLocationById(registered.id);
    assert.equal(await catalog.getLocationById(registered.id), undefined);
    assert.deepEqual(await catalog.getLocations(), { items: [] });
    assert.equal(await catalog.getLocationByRef(`url:${REMOTE_TARGET}`), undefined);
    await waitFor(
      'the entities of the removed location to disappear',
      async () => {
        const { items } = await catalog.getEntitiesByRefs({
          entityRefs: [registered.entityRef, 'component:remote/remote-service', 'resource:remote/remote-cache'],
        });
        return items.every(e => e === undefined);
      },
      { timeoutMs: 15_000 },
    );
  });

  it('removeLocationById of an unknown id rejects with 404 NotFoundError', async () => {
    const id = randomUUID();
    await assertResponseError(catalog.removeLocationById(id), {
      statusCode: 404,
      statusText: 'Not Found',
      name: 'NotFoundError',
      message: `Found no location with ID ${id}`,
    });
  });
});

describe('validateEntity', () => {
  const locationRef = () => `url:${FIXTURE_BASE_URL}/catalog-info.yaml`;
  const component = name => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
  });

  it('a valid entity is { valid: true }', async () => {
    assert.deepEqual(await catalog.validateEntity(component('fresh-service'), locationRef()), { valid: true });
  });

  it('an invalid name is { valid: false, errors } naming the field', async () => {
    const result = await catalog.validateEntity(component('not valid!'), locationRef());
    assert.equal(result.valid, false);
    assert.ok(Array.isArray(result.errors) && result.errors.length > 0, JSON.stringify(result));
    for (const error of result.errors) {
      assert.equal(typeof error.name, 'string');
      assert.equal(typeof error.message, 'string');
    }
    assert.ok(
      result.errors.some(e => e.message.includes('"metadata.name" is not valid') && e.message.includes('not valid!')),
      JSON.stringify(result.errors),
    );
  });

  it('a location ref that is not url: is { valid: false } with the reason', async () => {
    const result = await catalog.validateEntity(component('fresh-service'), 'file:/tmp/catalog-info.yaml');
    assert.deepEqual(result, {
      valid: false,
      errors: [
        {
          name: 'TypeError',
          message:
            "Invalid location ref file:/tmp/catalog-info.yaml, only 'url:<target>' is supported, e.g. url:https://host/path",
        },
      ],
    });
  });
});

describe('refreshEntity', () => {
  it('resolves (200) for an existing entity', async () => {
    assert.equal(await catalog.refreshEntity('component:default/artist-service'), undefined);
  });
});

describe('bad requests surface as client errors', () => {
  it('an invalid filter statement rejects with 400 InputError', async () => {
    await assertResponseError(catalog.getEntities({ filter: { '': 'x' } }), {
      statusCode: 400,
      statusText: 'Bad Request',
      name: 'InputError',
      message: "Invalid filter, '=x' is not a valid statement (expected a string on the form a=b or a= or a)",
    });
  });

  it('an invalid order rejects with 400 InputError', async () => {
    await assertResponseError(catalog.getEntities({ order: { field: 'metadata.name', order: 'sideways' } }), {
      statusCode: 400,
      name: 'InputError',
      message: 'Invalid order parameter "sideways:metadata.name", expected "<asc or desc>:<field name>"',
    });
  });

  it('an invalid orderField order rejects with 400 InputError', async () => {
    await assertResponseError(
      catalog.queryEntities({ orderFields: { field: 'metadata.name', order: 'sideways' } }),
      { statusCode: 400, name: 'InputError', message: 'Invalid order field order, must be asc or desc' },
    );
  });

  it('a malformed cursor rejects with 400 InputError', async () => {
    await assertResponseError(catalog.queryEntities({ cursor: 'not-a-cursor' }), {
      statusCode: 400,
      name: 'InputError',
      message: /^Malformed cursor/,
    });
  });

  it('an array-indexed field rejects with 400 InputError', async () => {
    await assertResponseError(catalog.getEntities({ fields: ['spec.dependsOn[0]'] }), {
      statusCode: 400,
      name: 'InputError',
      message: 'Invalid field "spec.dependsOn[0]", array type fields are not supported',
    });
  });
});

// Last, because it changes a fixture entity's uid.
describe('removeEntityByUid', () => {
  it('deletes the entity; its location brings it back with a new uid', async () => {
    const ref = 'resource:default/artist-db';
    const original = await catalog.getEntityByRef(ref);
    assert.ok(original, `${ref} not found`);
    await catalog.removeEntityByUid(original.metadata.uid);
    assert.equal(await catalog.getEntityByRef(ref), undefined, `${ref} still readable right after deletion`);
    const back = await waitFor(`${ref} to be re-created by its location`, async () => catalog.getEntityByRef(ref), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    assert.notEqual(back.metadata.uid, original.metadata.uid);
    const settled = await waitFor(`${ref} to be stitched with its relations again`, async () => {
      const entity = await catalog.getEntityByRef(ref);
      return entity?.relations?.length === FILE[ref].relations.length && entity;
    });
    assert.deepEqual(comparable(settled), FILE[ref]);
  });

  it('resolves for an unknown uid (204)', async () => {
    assert.equal(await catalog.removeEntityByUid(randomUUID()), undefined);
  });
});
