// What Backstage's catalog serves for the fixture catalogs in ./fixtures, written
// out by hand from Backstage's processing rules (reference sections 1.4–1.7):
// default namespace filled in, location annotations added by the catalog, spec
// kept as written, and `relations` holding both directions of every relation
// produced from spec fields, as `{type, targetRef}` sorted by type then
// targetRef (the stitcher selects them DISTINCT ... ORDER BY type, target).

import { createHash } from 'node:crypto';

export const ANNOTATION_LOCATION = 'backstage.io/managed-by-location';
export const ANNOTATION_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';
export const ANNOTATION_VIEW_URL = 'backstage.io/view-url';

/** `generated-<sha1("<type>:<target>")>`: the name Backstage gives a location's Location entity. */
export function generatedLocationName(type, target) {
  return `generated-${createHash('sha1').update(`${type}:${target}`).digest('hex')}`;
}

function rel(type, targetRef) {
  return { type, targetRef };
}

/** Entities of ./fixtures/catalog.yaml as stitched, keyed by canonical ref (without uid/etag). */
export function fileFixtureEntities(catalogPath) {
  const fileLocation = `file:${catalogPath}`;
  const annotations = {
    [ANNOTATION_LOCATION]: fileLocation,
    [ANNOTATION_ORIGIN_LOCATION]: fileLocation,
  };
  const apiVersion = 'backstage.io/v1alpha1';
  return {
    'group:default/team-a': {
      apiVersion,
      kind: 'Group',
      metadata: {
        name: 'team-a',
        namespace: 'default',
        description: 'The team that owns the audio platform',
        annotations,
      },
      spec: {
        type: 'team',
        profile: { displayName: 'Team A', email: 'team-a@example.com' },
        children: [],
      },
      relations: [
        rel('hasMember', 'user:default/alice'),
        rel('hasMember', 'user:default/bob'),
        rel('ownerOf', 'api:default/artist-api'),
        rel('ownerOf', 'component:default/artist-service'),
        rel('ownerOf', 'component:default/playback-lib'),
        rel('ownerOf', 'resource:default/artist-db'),
        rel('ownerOf', 'system:default/audio-platform'),
      ],
    },
    'user:default/alice': {
      apiVersion,
      kind: 'User',
      metadata: { name: 'alice', namespace: 'default', annotations },
      spec: {
        profile: { displayName: 'Alice Example', email: 'alice@example.com' },
        memberOf: ['team-a'],
      },
      relations: [
        rel('memberOf', 'group:default/team-a'),
        rel('ownerOf', 'component:default/artist-web'),
      ],
    },
    'user:default/bob': {
      apiVersion,
      kind: 'User',
      metadata: { name: 'bob', namespace: 'default', annotations },
      spec: {
        profile: { displayName: 'Bob Example', email: 'bob@example.com' },
        memberOf: ['team-a'],
      },
      relations: [
        rel('memberOf', 'group:default/team-a'),
        rel('ownerOf', 'api:default/playback-api'),
      ],
    },
    'system:default/audio-platform': {
      apiVersion,
      kind: 'System',
      metadata: {
        name: 'audio-platform',
        namespace: 'default',
        description: 'Everything that plays music',
        annotations,
      },
      spec: { owner: 'team-a' },
      relations: [
        rel('hasPart', 'api:default/artist-api'),
        rel('hasPart', 'component:default/artist-service'),
        rel('hasPart', 'component:default/artist-web'),
        rel('hasPart', 'resource:default/artist-db'),
        rel('ownedBy', 'group:default/team-a'),
      ],
    },
    'component:default/artist-service': {
      apiVersion,
      kind: 'Component',
      metadata: {
        name: 'artist-service',
        namespace: 'default',
        title: 'Artist Service',
        description: 'Serves artist profiles',
        tags: ['java', 'backend'],
        annotations: { ...annotations, 'backstage.io/techdocs-ref': 'dir:.' },
      },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: 'team-a',
        system: 'audio-platform',
        providesApis: ['artist-api'],
        consumesApis: ['playback-api'],
        dependsOn: ['component:playback-lib', 'resource:artist-db'],
      },
      relations: [
        rel('consumesApi', 'api:default/playback-api'),
        rel('dependencyOf', 'component:default/artist-web'),
        rel('dependsOn', 'component:default/playback-lib'),
        rel('dependsOn', 'resource:default/artist-db'),
        rel('ownedBy', 'group:default/team-a'),
        rel('partOf', 'system:default/audio-platform'),
        rel('providesApi', 'api:default/artist-api'),
      ],
    },
    'component:default/artist-web': {
      apiVersion,
      kind: 'Component',
      metadata: {
        name: 'artist-web',
        namespace: 'default',
        title: 'Artist Web',
        description: 'The artist pages of the web site',
        tags: ['typescript', 'frontend'],
        annotations,
      },
      spec: {
        type: 'website',
        lifecycle: 'experimental',
        owner: 'user:alice',
        system: 'audio-platform',
        consumesApis: ['artist-api'],
        dependsOn: ['component:artist-service'],
      },
      relations: [
        rel('consumesApi', 'api:default/artist-api'),
        rel('dependsOn', 'component:default/artist-service'),
        rel('ownedBy', 'user:default/alice'),
        rel('partOf', 'system:default/audio-platform'),
      ],
    },
    'component:default/playback-lib': {
      apiVersion,
      kind: 'Component',
      metadata: {
        name: 'playback-lib',
        namespace: 'default',
        description: 'Shared playback code',
        tags: ['java', 'audio'],
        annotations,
      },
      spec: {
        type: 'library',
        lifecycle: 'deprecated',
        owner: 'team-a',
        providesApis: ['playback-api'],
      },
      relations: [
        rel('dependencyOf', 'component:default/artist-service'),
        rel('ownedBy', 'group:default/team-a'),
        rel('providesApi', 'api:default/playback-api'),
      ],
    },
    'api:default/artist-api': {
      apiVersion,
      kind: 'API',
      metadata: {
        name: 'artist-api',
        namespace: 'default',
        description: 'Artist profiles over HTTP',
        annotations,
      },
      spec: {
        type: 'openapi',
        lifecycle: 'production',
        owner: 'team-a',
        system: 'audio-platform',
        definition:
          'openapi: 3.0.0\ninfo:\n  title: Artist API\n  version: 1.0.0\npaths: {}\n',
      },
      relations: [
        rel('apiConsumedBy', 'component:default/artist-web'),
        rel('apiProvidedBy', 'component:default/artist-service'),
        rel('ownedBy', 'group:default/team-a'),
        rel('partOf', 'system:default/audio-platform'),
      ],
    },
    'api:default/playback-api': {
      apiVersion,
      kind: 'API',
      metadata: {
        name: 'playback-api',
        namespace: 'default',
        description: 'Playback control over gRPC',
        annotations,
      },
      spec: {
        type: 'grpc',
        lifecycle: 'experimental',
        owner: 'user:bob',
        definition: 'syntax = "proto3";\nservice Playback {}\n',
      },
      relations: [
        rel('apiConsumedBy', 'component:default/artist-service'),
        rel('apiProvidedBy', 'component:default/playback-lib'),
        rel('ownedBy', 'user:default/bob'),
      ],
    },
    'resource:default/artist-db': {
      apiVersion,
      kind: 'Resource',
      metadata: {
        name: 'artist-db',
        namespace: 'default',
        description: 'Artist profile storage',
        annotations,
      },
      spec: { type: 'database', owner: 'team-a', system: 'audio-platform' },
      relations: [
        rel('dependencyOf', 'component:default/artist-service'),
        rel('ownedBy', 'group:default/team-a'),
        rel('partOf', 'system:default/audio-platform'),
      ],
    },
  };
}

/**
 * The Location entity Backstage generates for a location (a `catalog.locations`
 * entry or one registered through POST /locations), as stitched. For `url`
 * locations the catalog also sets `backstage.io/view-url` (no SCM integration
 * matches 127.0.0.1, so there is no edit-url or source-location).
 */
export function locationEntity(type, target) {
  const ref = `${type}:${target}`;
  const annotations = { [ANNOTATION_LOCATION]: ref, [ANNOTATION_ORIGIN_LOCATION]: ref };
  if (type === 'url') {
    annotations[ANNOTATION_VIEW_URL] = target;
  }
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Location',
    metadata: { name: generatedLocationName(type, target), namespace: 'default', annotations },
    spec: { type, target },
  };
}

/** Entities of ./fixtures/remote/catalog-info.yaml once processed (no relations: dry-run form). */
export function remoteProcessedEntities(target) {
  const annotations = {
    [ANNOTATION_LOCATION]: `url:${target}`,
    [ANNOTATION_ORIGIN_LOCATION]: `url:${target}`,
    [ANNOTATION_VIEW_URL]: target,
  };
  return {
    'component:remote/remote-service': {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'remote-service',
        namespace: 'remote',
        description: 'Registered at run time over a url location',
        annotations,
      },
      spec: {
        type: 'service',
        lifecycle: 'experimental',
        owner: 'group:default/team-a',
        dependsOn: ['resource:remote-cache'],
      },
    },
    'resource:remote/remote-cache': {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: { name: 'remote-cache', namespace: 'remote', annotations },
      spec: { type: 'cache', owner: 'group:default/team-a' },
    },
  };
}

/** Relations of the remote entities once stitched. */
export const REMOTE_RELATIONS = {
  'component:remote/remote-service': [
    rel('dependsOn', 'resource:remote/remote-cache'),
    rel('ownedBy', 'group:default/team-a'),
  ],
  'resource:remote/remote-cache': [
    rel('dependencyOf', 'component:remote/remote-service'),
    rel('ownedBy', 'group:default/team-a'),
  ],
};

/** Each relation type and the type Backstage emits in the other direction. */
export const REVERSE_RELATION = {
  ownedBy: 'ownerOf',
  ownerOf: 'ownedBy',
  providesApi: 'apiProvidedBy',
  apiProvidedBy: 'providesApi',
  consumesApi: 'apiConsumedBy',
  apiConsumedBy: 'consumesApi',
  dependsOn: 'dependencyOf',
  dependencyOf: 'dependsOn',
  partOf: 'hasPart',
  hasPart: 'partOf',
  memberOf: 'hasMember',
  hasMember: 'memberOf',
  parentOf: 'childOf',
  childOf: 'parentOf',
};
