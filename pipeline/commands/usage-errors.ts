import { Command, type Argument, type ErrorOptions, type Option } from 'commander';

import { PipelineError } from '../errors.js';
import { acceptedValuesOf } from './option-values.js';

/**
 * A commander command whose refusal of a command line never quotes it. Commander's own texts
 * quote what was typed (`unknown command 'Doe_Jane_MRN4471.hl7'`, `argument 'Doe_Jane' is
 * invalid`), and a local file name or a value can carry a patient's name, so each refusal
 * becomes a `CLI_USAGE` error with a fixed text per commander error code instead. The text names
 * the command and the declared option or argument, never the value or an unknown token; it
 * prints nothing itself. Sub-commands made with `.command()` are of this class too.
 */
export class UsageCheckedCommand extends Command {
  override createCommand(name?: string): UsageCheckedCommand {
    return new UsageCheckedCommand(name);
  }

  override error(message: string, errorOptions?: ErrorOptions): never {
    // Commander's message is read only to learn which declared option or argument it is about;
    // it is neither printed nor kept as the cause.
    throw new PipelineError(
      'CLI_USAGE',
      usageErrorText(this, errorOptions?.code ?? 'commander.error', message),
    );
  }
}

/**
 * Returns the fixed text for one refused command line. Names are found by matching commander's
 * message against the declared options and arguments, so only declared names can come out; if a
 * later commander words its message differently, the text simply leaves the name out.
 *
 * @param command - the command that refused the command line
 * @param code - commander's error code, such as `commander.unknownOption`
 * @param message - commander's message, which may quote what was typed
 */
export function usageErrorText(command: Command, code: string, message: string): string {
  const path = commandPath(command);
  const help = `see ${path} --help`;
  switch (code) {
    case 'commander.unknownCommand':
      return `Unknown command for ${path}: not one of its commands; ${help}`;
    case 'commander.unknownOption':
      return `Unknown option for ${path}: an option this command does not take; ${help}`;
    case 'commander.missingMandatoryOptionValue': {
      const option = optionAtStart(command, message, "error: required option '", "' not");
      return option
        ? `${path} requires ${optionName(option)}; ${help}`
        : `${path} requires an option that was not given; ${help}`;
    }
    case 'commander.optionMissingArgument': {
      const option = optionAtStart(command, message, "error: option '", "' argument missing");
      return option
        ? `${optionName(option)} of ${path} needs a value; ${help}`
        : `An option of ${path} needs a value; ${help}`;
    }
    case 'commander.missingArgument': {
      const argument = command.registeredArguments.find(
        (declared) => message === `error: missing required argument '${declared.name()}'`,
      );
      return argument
        ? `${path} requires the argument ${argumentName(argument)}; ${help}`
        : `${path} requires an argument that was not given; ${help}`;
    }
    case 'commander.excessArguments':
      return `Too many arguments for ${path}: it takes ${argumentCount(command)}; ${help}`;
    case 'commander.invalidArgument':
      return invalidArgumentText(command, message, path, help);
    case 'commander.conflictingOption': {
      const first = optionAtStart(command, message, "error: option '", "' cannot be used with ");
      const second = declaredOptions(command).find((option) =>
        message.endsWith(` cannot be used with option '${option.flags}'`),
      );
      return first && second
        ? `${optionName(first)} cannot be used with ${optionName(second)} in ${path}; ${help}`
        : `Two options of ${path} that cannot be used together were given; ${help}`;
    }
    default:
      return `${path} cannot run this command line; ${help}`;
  }
}

function invalidArgumentText(
  command: Command,
  message: string,
  path: string,
  help: string,
): string {
  const option = optionAtStart(command, message, "error: option '", "' ");
  if (option) {
    // The parser's own text (`--limit takes a whole number from 1 to 1000`) is fixed and names
    // the option; commander puts the value before it, so it is looked up, not cut out.
    const accepted = option.parseArg ? acceptedValuesOf(option.parseArg) : undefined;
    return accepted
      ? `${accepted}; ${help}`
      : `${optionName(option)} of ${path} was given a value it does not take; ${help}`;
  }
  const argument = command.registeredArguments.find(
    (declared) =>
      message.startsWith("error: command-argument value '") &&
      message.includes(`' is invalid for argument '${declared.name()}'.`),
  );
  return argument
    ? `The argument ${argumentName(argument)} of ${path} was given a value it does not take; ${help}`
    : `${path} was given a value it does not take; ${help}`;
}

/** `phi-ingest batch show`: the names of the command and its parents. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(' ');
}

/** The options a command accepts: its own, then those of its parents (such as `--home`). */
function declaredOptions(command: Command): Option[] {
  const options: Option[] = [];
  for (let current: Command | null = command; current; current = current.parent) {
    options.push(...current.options);
  }
  return options;
}

/** The declared option whose flags commander's message quotes between `before` and `after`. */
function optionAtStart(
  command: Command,
  message: string,
  before: string,
  after: string,
): Option | undefined {
  return declaredOptions(command).find((option) =>
    message.startsWith(`${before}${option.flags}${after}`),
  );
}

function optionName(option: Option): string {
  return option.long ?? option.short ?? option.name();
}

function argumentName(argument: Argument): string {
  return `<${argument.name()}>`;
}

function argumentCount(command: Command): string {
  const count = command.registeredArguments.length;
  return count === 0 ? 'no arguments' : count === 1 ? '1 argument' : `${count} arguments`;
}
