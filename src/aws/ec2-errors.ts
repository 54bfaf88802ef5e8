// The one table of EC2 error codes and what they mean to ORCA. A Map, not an object literal, so
// that names such as "constructor" can never match.
import { LaunchError, type LaunchErrorKind } from '../domain/errors.js';

const KIND_BY_CODE: ReadonlyMap<string, LaunchErrorKind> = new Map<string, LaunchErrorKind>([
  ['InsufficientInstanceCapacity', 'capacity'],
  ['InsufficientCapacityOnHost', 'capacity'],
  ['InsufficientHostCapacity', 'capacity'],
  ['InsufficientReservedInstanceCapacity', 'capacity'],
  ['MaxSpotInstanceCountExceeded', 'capacity'],
  ['SpotMaxPriceTooLow', 'capacity'],
  ['ReservationCapacityExceeded', 'reservation-full'],
  ['InsufficientCapacityReservationCapacity', 'reservation-full'],
  ['Unsupported', 'unsupported'],
  ['UnsupportedOperation', 'unsupported'],
  ['VcpuLimitExceeded', 'quota'],
  ['InstanceLimitExceeded', 'quota'],
  ['MaxSpotFleetRequestCountExceeded', 'quota'],
  ['RequestLimitExceeded', 'throttled'],
  ['Throttling', 'throttled'],
  ['ThrottlingException', 'throttled'],
  ['UnauthorizedOperation', 'unauthorized'],
  ['AuthFailure', 'unauthorized'],
  ['IdempotentParameterMismatch', 'idempotency'],
  ['InvalidParameterValue', 'invalid'],
  ['InvalidParameterCombination', 'invalid'],
  ['InvalidAMIID.NotFound', 'invalid'],
  ['InvalidAMIID.Malformed', 'invalid'],
  ['InvalidSubnetID.NotFound', 'invalid'],
  ['InvalidGroup.NotFound', 'invalid'],
  ['InvalidCapacityReservationId.NotFound', 'invalid'],
  ['InvalidInstanceType', 'invalid'],
  ['MissingParameter', 'invalid'],
]);

export function classifyEc2Error(e: unknown): LaunchErrorKind {
  return (e instanceof Error ? KIND_BY_CODE.get(e.name) : undefined) ?? 'unknown';
}

/** A LaunchError carrying AWS's code and message (never request parameters such as user data). */
export function toLaunchError(e: unknown): LaunchError {
  const name = e instanceof Error ? e.name : 'Unknown';
  const message = e instanceof Error ? e.message : String(e);
  return new LaunchError(classifyEc2Error(e), name, message, { cause: e });
}
