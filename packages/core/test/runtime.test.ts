import { describe, expect, test } from 'vitest'
import { MIN_NODE_MAJOR, packageName, unsupportedNodeMessage } from '../src/index.js'

describe('unsupportedNodeMessage', () => {
  test('names the version it needs and the one it found', () => {
    expect(unsupportedNodeMessage('20.20.2')).toBe(
      'Larder needs Node.js 24 or newer (found 20.20.2)',
    )
    expect(unsupportedNodeMessage('v22.1.0')).toBe(
      'Larder needs Node.js 24 or newer (found 22.1.0)',
    )
  })
  test('is undefined from Node 24 on, and for the running Node', () => {
    expect(MIN_NODE_MAJOR).toBe(24)
    expect(unsupportedNodeMessage('24.0.0')).toBeUndefined()
    expect(unsupportedNodeMessage('26.3.1')).toBeUndefined()
    expect(unsupportedNodeMessage()).toBeUndefined()
  })
})

test('packageName keeps the scope and drops subpaths', () => {
  expect(packageName('@larder/redis')).toBe('@larder/redis')
  expect(packageName('@larder/file/table')).toBe('@larder/file')
  expect(packageName('ioredis/built/x.js')).toBe('ioredis')
})
