//! Command-line parsing that names the environment variable behind a bad value.

use clap::{
    Command, Parser,
    error::{ContextKind, ContextValue, ErrorKind},
};

/// Parses the process's arguments and environment; on a bad value prints which variable
/// (and flag) to fix, then exits with status 2.
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(parsed) => parsed,
        Err(error) => {
            let variable = match error.kind() {
                ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
                    bad_variable(&T::command(), &error)
                }
                _ => None,
            };
            match variable {
                Some(variable) => {
                    eprintln!(
                        "error: {variable} is invalid: {}",
                        error.render().to_string().trim()
                    );
                    std::process::exit(2);
                }
                None => error.exit(),
            }
        }
    }
}

/// The environment variable of the argument an error is about.
fn bad_variable(command: &Command, error: &clap::Error) -> Option<String> {
    let ContextValue::String(arg) = error.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let long = arg.split_whitespace().next()?.trim_start_matches("--");
    let mut commands = vec![command];
    while let Some(command) = commands.pop() {
        if let Some(found) = command.get_arguments().find(|a| a.get_long() == Some(long)) {
            return found
                .get_env()
                .map(|env| env.to_string_lossy().into_owned());
        }
        commands.extend(command.get_subcommands());
    }
    None
}
